"""Disconnecting a company: revoke at Intuit, and keep retrying until Intuit confirms.

Forgetting a refresh token Intuit never confirmed revoked would leave a live grant nobody can
see or end. So an unconfirmed revoke keeps the (encrypted) token in `pending_revocation`, the
company says "revoke pending", and the maintenance sweep (`retry_revocations`) tries again with
a growing wait. Reconnecting the same QuickBooks company cancels the pending revoke: revoking
the old refresh token would disconnect the app from that company again (API.md §8.5).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.crypto import TokenVault
from core.crypto import scrubbed_logger
from core.db import utcnow
from core.errors import CostbridgeError
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.models.hardening import PendingRevocation
from core.qbo.grants import forget_tokens
from core.qbo.oauth_config import OAuthConfig
from core.qbo.oauth_protocol import revoke
from core.runtime import Runtime

log = scrubbed_logger(__name__)

__all__ = ["REVOKE_PENDING", "cancel_for_realm", "disconnect", "retry_revocations"]

REVOKE_PENDING = (
    "Revoke pending: Intuit has not confirmed the disconnection yet; costbridge keeps asking."
)
#: Waits between attempts: 1, 2, 4 ... minutes, at most six hours.
FIRST_WAIT = dt.timedelta(minutes=1)
LONGEST_WAIT = dt.timedelta(hours=6)


def _confirmed(oauth: OAuthConfig, vault: TokenVault, token_enc: str) -> bool:
    try:
        return revoke(oauth, vault.decrypt(token_enc))
    except CostbridgeError as exc:  # discovery unreachable, or a key that no longer decrypts
        log.warning("revoke not attempted: %s", type(exc).__name__)
        return False


def disconnect(session: Session, company: Company, oauth: OAuthConfig, vault: TokenVault) -> bool:
    """Revoke the company's grant and forget its tokens (the caller commits).

    Returns:
        Whether Intuit confirmed. If not, the refresh token stays in `pending_revocation` and
        the company's problem says "revoke pending".
    """
    token_enc = company.refresh_token_enc or company.access_token_enc
    confirmed = True
    if token_enc:
        confirmed = _confirmed(oauth, vault, token_enc)
        if not confirmed:
            session.add(
                PendingRevocation(
                    company_id=company.id,
                    realm_id=company.realm_id,
                    token_enc=token_enc,
                    attempts=1,
                    next_attempt_at=utcnow() + FIRST_WAIT,
                    last_error="Intuit did not confirm the revocation.",
                )
            )
    forget_tokens(
        company, ConnectionStatus.DISCONNECTED, problem=None if confirmed else REVOKE_PENDING
    )
    return confirmed


def cancel_for_realm(session: Session, realm_id: str) -> None:
    """Drop pending revokes of a realm that is being connected again (the caller commits)."""
    session.execute(delete(PendingRevocation).where(PendingRevocation.realm_id == realm_id))


def retry_revocations(rt: Runtime, *, limit: int = 100) -> dict[str, int]:
    """Try again every revoke whose wait is over; the maintenance sweep calls this.

    Returns:
        `{"tried": n, "confirmed": m}`.
    """
    oauth = OAuthConfig.from_settings(rt.settings)
    vault = TokenVault(rt.settings.token_keys)
    tried = confirmed = 0
    with rt.sessions() as session:
        due = session.scalars(
            select(PendingRevocation.id)
            .where(PendingRevocation.next_attempt_at <= utcnow())
            .order_by(PendingRevocation.id)
            .limit(limit)
        ).all()
    for row_id in due:
        with rt.sessions() as session, session.begin():
            row = session.get(PendingRevocation, row_id, with_for_update={"skip_locked": True})
            if row is None or row.next_attempt_at > utcnow():
                continue  # another sweep took it
            reconnected = row.realm_id is not None and session.scalar(
                select(Company.id).where(
                    Company.realm_id == row.realm_id,
                    Company.connection_status == ConnectionStatus.CONNECTED,
                )
            )
            if reconnected:
                session.delete(row)
                continue
            tried += 1
            if _confirmed(oauth, vault, row.token_enc):
                confirmed += 1
                company = session.get(Company, row.company_id) if row.company_id else None
                if company is not None and company.connection_problem == REVOKE_PENDING:
                    company.connection_problem = None
                session.delete(row)
                log.info("pending revoke %s confirmed by Intuit", row_id)
                continue
            row.attempts += 1
            row.next_attempt_at = utcnow() + min(
                FIRST_WAIT * 2 ** min(row.attempts - 1, 16), LONGEST_WAIT
            )
            row.last_error = "Intuit did not confirm the revocation."
    return {"tried": tried, "confirmed": confirmed}
