"""The webhook inbox: store each reported change in the database first, queue it afterwards.

A change is one `(realm, entity, id, operation, lastUpdated)`; the table's UNIQUE key on those
is the replay defence (Intuit signs no timestamp: RELIABILITY.md §2, "Webhooks"), so it holds
whatever happens to Redis. The web request stores the changes and commits, then queues one job
per realm; if queueing fails the rows stay `received`, the answer is 503 so Intuit sends the
delivery again, and that retry (or the maintenance sweep, `sweep_inbox`) queues them.

A change is ignored, not stored, when it is older than what costbridge already applied for
that record: a processed change of the same record with a later `lastUpdated`, or a completed
pull of that entity that started more than `PULL_MARGIN` after it (its cursor).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from core import namespace
from core.crypto import scrubbed_logger
from core.db import utcnow
from core.models.company import Company
from core.models.hardening import DeliveryState
from core.models.hardening import WebhookDelivery
from core.models.sync import SyncCursor
from core.runtime import Runtime

log = scrubbed_logger(__name__)

__all__ = [
    "Stored",
    "mark_done",
    "parse_when",
    "prune_inbox",
    "queue_pending",
    "store_changes",
    "sweep_inbox",
]

#: A `received` or `queued` row older than this is the sweeper's to queue again: the request
#: that stored it has long answered, and a queued job this old was lost with Redis.
SWEEP_AFTER = dt.timedelta(seconds=60)
#: A change this much older than a completed pull's cursor was surely applied by that pull.
PULL_MARGIN = dt.timedelta(days=1)
#: Most changes one sweep queues (the rest go on the next sweep).
SWEEP_LIMIT = 5000
#: How long a handled change is kept. Intuit retries a delivery for far less than this, and an
#: older change is ignored anyway once a completed pull has passed it (`PULL_MARGIN`).
KEEP_DONE = dt.timedelta(days=30)
#: Most handled rows one sweep deletes (the rest go on the next sweep).
PRUNE_LIMIT = 5000
_FINISHED = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)

_WHEN = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,12}))?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_when(raw: str) -> dt.datetime | None:
    """`lastUpdated` / CloudEvents `time` as an aware UTC datetime; None if malformed.

    CloudEvents carry nanoseconds (API.md §10.3, `...25.179851517Z`); Python keeps six digits.
    A value without a zone is read as UTC.
    """
    match = _WHEN.match(raw.strip())
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    offset = "+00:00" if zone in (None, "Z") else zone
    if len(offset) == 5:  # +0000
        offset = f"{offset[:3]}:{offset[3:]}"
    try:
        when = dt.datetime.fromisoformat(f"{day}T{clock}.{micro}{offset}")
    except ValueError:
        return None
    return when.astimezone(dt.UTC)


@dataclass
class Stored:
    """What `store_changes` did with one POST's changes."""

    #: Row ids per realm that still need a job (new ones, and earlier ones never queued).
    pending: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    new: int = 0
    duplicates: int = 0
    stale: int = 0
    ignored: int = 0  # unknown realm


def store_changes(session: Session, events: Sequence[tuple[str, dict[str, str]]]) -> Stored:
    """Store one POST's changes (the caller commits: that commit is the acceptance).

    Args:
        session: An open session; nothing is committed here.
        events: `(realm_id, change)` pairs from `core.web.webhooks.parse_events`.

    Returns:
        The ids to queue per realm and what was counted as duplicate, stale or ignored.
    """
    result = Stored()
    realms = {realm for realm, _ in events}
    known = (
        set(session.scalars(select(Company.realm_id).where(Company.realm_id.in_(realms))))
        if realms
        else set()
    )
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for realm, change in events:
        when = parse_when(change["last_updated"])
        if realm not in known or len(change["last_updated"]) > 64:
            result.ignored += 1
            continue
        entity, entity_id = change["entity"][:40], change["id"][:64]
        if when is not None and _already_applied(session, realm, entity, entity_id, when):
            result.stale += 1
            continue
        stmt = (
            insert(WebhookDelivery)
            .values(
                realm_id=realm,
                entity=entity,
                entity_id=entity_id,
                operation=change["operation"][:16],
                last_updated_raw=change["last_updated"],
                last_updated=when,
                deleted_id=(change.get("deleted_id") or None),
                state=DeliveryState.RECEIVED,
                received_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(WebhookDelivery.id)
        )
        new_id = session.execute(stmt).scalar_one_or_none()
        if new_id is not None:
            result.new += 1
            result.pending[realm].append(new_id)
            continue
        result.duplicates += 1
        existing = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.state).where(
                WebhookDelivery.realm_id == realm,
                WebhookDelivery.entity == entity,
                WebhookDelivery.entity_id == entity_id,
                WebhookDelivery.operation == change["operation"][:16],
                WebhookDelivery.last_updated_raw == change["last_updated"],
            )
        ).first()
        # Intuit's retry of a delivery whose job was never queued queues it now.
        if (
            existing is not None
            and existing.state == DeliveryState.RECEIVED
            and existing.id not in result.pending[realm]
        ):
            result.pending[realm].append(existing.id)
    return result


def _already_applied(
    session: Session, realm: str, entity: str, entity_id: str, when: dt.datetime
) -> bool:
    newest_done = session.scalar(
        select(func.max(WebhookDelivery.last_updated)).where(
            WebhookDelivery.realm_id == realm,
            WebhookDelivery.entity == entity,
            WebhookDelivery.entity_id == entity_id,
            WebhookDelivery.state == DeliveryState.DONE,
        )
    )
    if newest_done is not None and _aware(newest_done) > when:
        return True
    # A completed pull that started well after the change saw it. The margin keeps a skew
    # between Intuit's clock and ours (or a late batch) from ever hiding a change.
    position = session.scalar(
        select(SyncCursor.position).where(
            SyncCursor.realm_id == realm,
            SyncCursor.entity == entity,
            SyncCursor.full_sync_done.is_(True),
        )
    )
    return position is not None and _aware(position) - PULL_MARGIN > when


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def job_id_for(rt: Runtime, realm_id: str, ids: Iterable[int]) -> str:
    """The deterministic RQ job id of one realm's batch of inbox rows (under the install id)."""
    digest = hashlib.sha256(",".join(str(i) for i in sorted(ids)).encode()).hexdigest()[:24]
    return namespace.job_id(rt.install_id, "webhook", realm_id, digest)


def queue_pending(rt: Runtime, pending: dict[str, list[int]]) -> int:
    """Queue one webhook job per realm for these inbox rows, then mark them `queued`.

    Raises whatever Redis raises; rows not queued stay `received` for a retry or the sweeper.

    Returns:
        How many changes were queued.
    """
    from core.jobs import queues
    from core.qbo import webhook_jobs

    queued = 0
    for realm, ids in pending.items():
        if not ids:
            continue
        with rt.sessions() as session:
            rows = session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .order_by(WebhookDelivery.id)
            ).all()
            changes = [row.as_change() for row in rows]
            row_ids = [row.id for row in rows]
        if not row_ids:
            continue
        job_id = job_id_for(rt, realm, row_ids)
        _forget_finished_job(rt, job_id)
        job = queues.enqueue(
            rt.redis,
            queues.WEBHOOKS,
            webhook_jobs.process_changes,
            job_id=job_id,
            kwargs={"realm_id": realm, "changes": changes, "inbox_ids": row_ids},
            meta={"realm_id": realm, "kind": "webhook"},
        )
        with rt.sessions() as session:
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id.in_(row_ids),
                    WebhookDelivery.state != DeliveryState.DONE,
                )
                .values(state=DeliveryState.QUEUED, queued_at=utcnow(), job_id=job_id)
            )
            session.commit()
        queued += len(row_ids) if job is not None else 0
    return queued


def _job_alive(rt: Runtime, job_id: str) -> bool:
    """Whether RQ still holds this job waiting, scheduled or running."""
    try:
        job = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) not in _FINISHED


def _forget_finished_job(rt: Runtime, job_id: str) -> None:
    """Drop a finished or failed job of the same id, so the rows can go again."""
    try:
        job = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return
    if job.get_status(refresh=False) in _FINISHED:
        job.delete()


def mark_done(session: Session, ids: Sequence[int]) -> None:
    """Record that the webhook job handled these rows (the caller commits)."""
    if ids:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(list(ids)))
            .values(state=DeliveryState.DONE, done_at=utcnow())
        )


def sweep_inbox(rt: Runtime, *, older_than: dt.timedelta = SWEEP_AFTER) -> dict[str, int]:
    """Queue every stored change that has waited too long: never queued, or lost with Redis.

    A job still queued keeps its id, so queueing its rows again is refused by RQ (`unique`).

    Returns:
        `{"candidates": n, "queued": m}`.
    """
    cutoff = utcnow() - older_than
    with rt.sessions() as session:
        rows = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.realm_id, WebhookDelivery.job_id)
            .where(
                WebhookDelivery.state.in_([DeliveryState.RECEIVED, DeliveryState.QUEUED]),
                WebhookDelivery.received_at < cutoff,
            )
            .order_by(WebhookDelivery.id)
            .limit(SWEEP_LIMIT)
        ).all()
    live: dict[str, bool] = {}
    pending: dict[str, list[int]] = defaultdict(list)
    for row_id, realm, job_id in rows:
        if job_id:
            if job_id not in live:
                live[job_id] = _job_alive(rt, job_id)
            if live[job_id]:
                continue  # its job is still waiting or running
        pending[realm].append(row_id)
    queued = queue_pending(rt, pending) if pending else 0
    if rows:
        log.info("webhook inbox sweep: %s waiting change(s), %s queued", len(rows), queued)
    return {"candidates": len(rows), "queued": queued}


def prune_inbox(rt: Runtime, *, keep: dt.timedelta = KEEP_DONE) -> int:
    """Delete handled changes received more than `keep` ago, at most `PRUNE_LIMIT` a call.

    Changes still waiting (received or queued) are never deleted, however old.

    Returns:
        How many rows were deleted.
    """
    cutoff = utcnow() - keep
    with rt.sessions() as session, session.begin():
        ids = select(WebhookDelivery.id).where(
            WebhookDelivery.state == DeliveryState.DONE,
            WebhookDelivery.received_at < cutoff,
        )
        doomed = session.scalars(ids.order_by(WebhookDelivery.id).limit(PRUNE_LIMIT)).all()
        if doomed:
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(doomed)))
    if doomed:
        log.info("webhook inbox: deleted %s handled change(s) older than %s", len(doomed), keep)
    return len(doomed)
