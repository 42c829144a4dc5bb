"""Outbox leases: which job execution may send a row, and for how long.

A push job claims its row with one conditional UPDATE under a short lease that a heartbeat
renews while the job runs, so two executions never both send it and a killed worker's rows are
taken back within `LEASE`, not minutes. Leases are decided on the application's clock
(`core.db.utcnow`); workers on several machines need their clocks kept in step (NTP) to well
inside `LEASE`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.db import utcnow
from core.models import OutboxEntry
from core.models import OutboxState
from core.qbo.bulk import MAX_BATCH_ITEMS

log = logging.getLogger(__name__)

__all__ = ["HEARTBEAT_EVERY", "LEASE", "Heartbeat", "claim", "claim_fresh_creates", "new_token"]

#: How long a claim holds without a heartbeat: a dead worker's rows come back this fast.
LEASE = dt.timedelta(seconds=15)
#: How often a running job renews its leases (well inside `LEASE`).
HEARTBEAT_EVERY = 3.0


def new_token(job_id: str | None) -> str:
    """The lease holder's name for one job execution (`push-12:3f9a...`)."""
    return f"{job_id or 'direct'}:{uuid.uuid4().hex[:12]}"


def claim(session: Session, outbox_id: int, token: str) -> bool:
    """Take one row for this execution if nobody live holds it; True when taken.

    Claimable: pending or unknown; or in flight under a lease that ran out (its holder died) or
    held by an earlier execution of this same job id (RQ runs one execution of a job at a
    time, so that one is dead).
    """
    now = utcnow()
    job_prefix = token.rsplit(":", 1)[0] + ":"
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == outbox_id)
        .where(
            OutboxEntry.state.in_([OutboxState.PENDING, OutboxState.UNKNOWN])
            | (
                (OutboxEntry.state == OutboxState.IN_FLIGHT)
                & (
                    (OutboxEntry.lease_until < now)
                    | OutboxEntry.lease_until.is_(None)
                    | OutboxEntry.claimed_by.startswith(job_prefix, autoescape=True)
                )
            )
        )
        .values(**_taken_by(token))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.expire_all()
    return bool(getattr(result, "rowcount", 0))


def _taken_by(token: str) -> dict[str, Any]:
    """The columns a claim sets: in flight under `token`, one attempt more, a fresh lease."""
    return {
        "state": OutboxState.IN_FLIGHT,
        "attempts": OutboxEntry.attempts + 1,
        "lease_until": utcnow() + LEASE,
        "claimed_by": token,
    }


def claim_fresh_creates(session: Session, lead: OutboxEntry, token: str) -> list[OutboxEntry]:
    """Also take up to 29 never-tried creates of the lead's company and entity (one batch)."""
    ids = session.scalars(
        select(OutboxEntry.id)
        .where(
            OutboxEntry.company_id == lead.company_id,
            OutboxEntry.entity == lead.entity,
            OutboxEntry.operation == "create",
            OutboxEntry.state == OutboxState.PENDING,
            OutboxEntry.attempts == 0,
            OutboxEntry.id != lead.id,
        )
        .order_by(OutboxEntry.id)
        .limit(MAX_BATCH_ITEMS - 1)
    ).all()
    if not ids:
        return []
    session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.id.in_(ids),
            OutboxEntry.state == OutboxState.PENDING,
            OutboxEntry.attempts == 0,
        )
        .values(**_taken_by(token))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.id.in_(ids), OutboxEntry.claimed_by == token)
            .where(OutboxEntry.state == OutboxState.IN_FLIGHT)
            .order_by(OutboxEntry.id)
        )
    )


class Heartbeat:
    """Renews this execution's leases every `HEARTBEAT_EVERY` seconds until stopped.

    It runs on its own connection, so a long QBO call in the job does not stop it; when the
    process dies, so does the heartbeat, and the lease runs out within `LEASE`.
    """

    def __init__(self, engine: Engine, token: str) -> None:
        """Renew the leases held by `token`."""
        self.engine = engine
        self.token = token
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease-{token}")

    def __enter__(self) -> Heartbeat:
        """Start beating."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop beating (the leases then end with the rows' final states)."""
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_EVERY * 2)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(OutboxEntry)
                        .where(
                            OutboxEntry.claimed_by == self.token,
                            OutboxEntry.state == OutboxState.IN_FLIGHT,
                        )
                        .values(lease_until=utcnow() + LEASE)
                    )
            except Exception:  # a missed beat is fine; the next one (or the lease) decides
                log.warning("could not renew outbox leases of %s", self.token, exc_info=True)
