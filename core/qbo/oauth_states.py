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

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.db import utcnow
from core.models.hardening import OAuthState

__all__ = ["STATE_TTL", "consume_state", "issue_state"]

#: How long a user has on Intuit's consent screen.
STATE_TTL = dt.timedelta(minutes=15)


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "replace")).hexdigest()


def issue_state(session: Session, company_id: int) -> str:
    """A fresh random `state` for connecting `company_id` (the caller commits)."""
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
        )
    )
    return state


def consume_state(session: Session, state: str) -> int | None:
    """Take `state` if it was issued and has not expired or been used; its company id.

    One statement deletes and returns the row, so of two concurrent callbacks only one gets
    it. The caller commits (an uncommitted take is rolled back with its transaction).
    """
    if not state or len(state) > 200:
        return None
    taken = session.execute(
        delete(OAuthState)
        .where(OAuthState.state_hash == _digest(state), OAuthState.expires_at > utcnow())
        .returning(OAuthState.company_id)
    ).scalar_one_or_none()
    return int(taken) if taken is not None else None
