"""One-time OAuth `state` values, kept server-side and consumed atomically by the callback.

The browser's session also carries the state it started (ASVS 10.1.2), but a cookie can be
replayed and the callback may arrive on the public host name where the console's cookie is not
sent; the server-side row is what makes a state single-use: one `DELETE ... RETURNING` takes
it, so two callbacks presenting it can never both exchange the code (a code used twice poisons
the grant: RELIABILITY.md §2, "Rotation").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.db import utcnow
from core.models.hardening import OAuthState

__all__ = ["STATE_TTL", "TakenState", "consume_state", "issue_state"]

#: How long a user has on Intuit's consent screen.
STATE_TTL = dt.timedelta(minutes=15)


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class TakenState:
    """What a consumed `state` was issued for."""

    company_id: int
    #: The admin confirmed a switch to another QuickBooks company (`core.realm_switch`).
    allow_switch: bool


def issue_state(session: Session, company_id: int, *, allow_switch: bool = False) -> str:
    """A fresh random `state` for connecting `company_id` (the caller commits).

    `allow_switch`: the admin confirmed that this sign-in may switch the company to another
    QuickBooks company.
    """
    state = secrets.token_urlsafe(32)
    now = utcnow()
    # Expired states of anyone are dropped on the way; they are useless.
    session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
    session.add(
        OAuthState(
            state_hash=_digest(state),
            company_id=company_id,
            created_at=now,
            expires_at=now + STATE_TTL,
            allow_switch=allow_switch,
        )
    )
    return state


def consume_state(session: Session, state: str) -> TakenState | None:
    """Take `state` if it was issued and has not expired or been used; what it was issued for.

    One statement deletes and returns the row, so of two concurrent callbacks only one gets
    it. The caller commits (an uncommitted take is rolled back with its transaction).
    """
    if not state or len(state) > 200:
        return None
    taken = session.execute(
        delete(OAuthState)
        .where(OAuthState.state_hash == _digest(state), OAuthState.expires_at > utcnow())
        .returning(OAuthState.company_id, OAuthState.allow_switch)
    ).one_or_none()
    if taken is None:
        return None
    return TakenState(company_id=int(taken[0]), allow_switch=bool(taken[1]))
