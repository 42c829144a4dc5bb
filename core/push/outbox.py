"""Recording a change to push: one call, inside the caller's transaction, per logical write.

Every path that creates, edits or deletes a pushable record (admin form, CLI, API, import) calls
`record_change` before it commits. The outbox row it writes carries a deterministic
idempotency key (RELIABILITY.md §1: `sha256(company|kind|local id|operation|version)`, 36 hex
characters, within the batch requestid limit) that is written into the QBO record as its marker
and sent as QBO's `requestid` on every attempt whose outcome may be unknown. Each later edit
gets the next version, so its own key; an edit made while an earlier one has not started yet
rides on that one (the job sends the record as it is then), and one recorded after an earlier
write was refused supersedes it (the new write sends the record as it is now).

A write QuickBooks definitively refused (a Fault: failed, or needs an admin) is re-sent only on
support's explicit retry, and then under a new attempt of its idempotency record: a new
`requestid` (`request_id`), since QBO answers a reused one with the stored Fault, but the same
marker, so the look-up before any re-send still finds an earlier attempt.

Support's calls (`list_outbox`, `retry`, `cancel`) live here too; enqueueing happens after the
commit (`core.push.queueing.enqueue_recorded`), and the sweeper puts back whatever Redis lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NeedsAdmin
from core.markers import MARKER_PREFIX
from core.markers import marker
from core.models import Attachment
from core.models import AttachmentOrigin
from core.models import Bill
from core.models import Invoice
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import RemoteMapping
from core.models import TimeEntry
from core.plugins import PluginManager
from core.push.kinds import PushKinds

Operation = Literal["create", "update", "delete"]
#: The core's local records that are pushed (`core.push.readers` reads each).
Pushable = Bill | Invoice | TimeEntry | Attachment

#: Rows a new change must wait behind (an earlier write of the same record still under way).
OPEN = (OutboxState.PENDING, OutboxState.IN_FLIGHT, OutboxState.UNKNOWN, OutboxState.BLOCKED)
#: Rows support may send again.
RETRYABLE = (OutboxState.FAILED, OutboxState.NEEDS_ADMIN, OutboxState.UNKNOWN)
#: Rows whose last attempt ended in a definitive answer (QBO's Fault, or a refusal before any
#: request): a re-send is a new request. An unknown row's re-send repeats its requestid.
REFUSED = (OutboxState.FAILED, OutboxState.NEEDS_ADMIN)

__all__ = [
    "MARKER_PREFIX",
    "OPEN",
    "REFUSED",
    "RETRYABLE",
    "OutboxRow",
    "cancel",
    "idempotency_key",
    "list_outbox",
    "marker",
    "open_predecessors",
    "open_writes",
    "record_change",
    "request_id",
    "retry",
    "retry_failed",
]


def idempotency_key(
    company_id: int, local_kind: str, local_id: int, operation: str, version: int
) -> str:
    """The key of one logical write: the same inputs always give the same 36 characters."""
    raw = f"{company_id}|{local_kind}|{local_id}|{operation}|{version}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:36]


def request_id(entry: OutboxEntry) -> str:
    """The `requestid` of the entry's current attempt: its key, then one per re-send.

    At most 36 + 1 + digits characters (QBO takes 50 on single writes); a batch never carries a
    re-sent row (only never-tried creates ride in one).
    """
    attempt = entry.request_attempt or 0
    return entry.idempotency_key if attempt == 0 else f"{entry.idempotency_key}-{attempt}"


def record_change(
    session: Session,
    record: Pushable,
    operation: Operation,
    *,
    pm: PluginManager,
    company_id: int | None = None,
) -> OutboxEntry | None:
    """Write the outbox row for one create, edit or delete of a pushable record (or file).

    Call it inside the transaction that makes the change, after the record has an id (flush),
    and for a delete before the record is deleted. Nothing is written for a record that was
    never sent and never will be (its create is still waiting: the change rides on it; deleted
    before it was sent: the create is cancelled).

    Args:
        session: The caller's session; the caller commits.
        record: The `Bill`, `Invoice`, `TimeEntry` or `Attachment`.
        operation: `create`, `update` or `delete`.
        pm: The plugin manager: the plugins' push kinds say which kind the record is.
        company_id: The record's company, when the caller already knows it.

    Returns:
        The new outbox row, or None when none was needed (also for a file pulled from QBO:
        those are never pushed back, and for a record no loaded plugin sends).
    """
    if isinstance(record, Attachment) and (
        record.origin == AttachmentOrigin.QBO or record.read_only
    ):
        # A file pulled from QBO is a read-only copy of an Attachable already there.
        return None
    push_kind = PushKinds.of(pm).kind_of(record)
    if push_kind is None:
        return None
    kind, entity = push_kind.name, push_kind.entity
    project = session.get(Project, record.project_id)
    if project is None:
        raise NeedsAdmin("This record does not belong to a project any more.")
    company = company_id or project.company_id
    rows = session.scalars(
        select(OutboxEntry)
        .where(
            OutboxEntry.company_id == company,
            OutboxEntry.local_kind == kind,
            OutboxEntry.local_id == record.id,
        )
        .order_by(OutboxEntry.id)
    ).all()
    waiting = [r for r in rows if r.state == OutboxState.PENDING and r.attempts == 0]
    if operation == "update":
        if not rows:
            # Never recorded (its toggle was off when it was made): nothing to edit in QBO.
            return None
        if waiting and waiting[-1].operation in ("create", "update"):
            return None  # the waiting write sends the record as it is when it runs
    if operation == "delete":
        in_qbo = session.scalar(
            select(RemoteMapping.id).where(
                RemoteMapping.local_kind == kind, RemoteMapping.local_id == record.id
            )
        )
        if in_qbo is None and not any(r.attempts for r in rows):
            for row in waiting:  # never sent anywhere: nothing to delete in QBO
                row.state = OutboxState.CANCELLED
                row.last_error = "Deleted before it was sent."
            return None
    version = max((r.payload_version for r in rows), default=0) + 1
    entry = OutboxEntry(
        company_id=company,
        project_id=record.project_id,
        entity=entity,
        local_kind=kind,
        local_id=record.id,
        operation=operation,
        payload_version=version,
        idempotency_key=idempotency_key(company, kind, record.id, operation, version),
        state=OutboxState.PENDING,
        attempts=0,
    )
    for row in rows:
        if row.state in REFUSED:
            # The new write sends the record as it is now: re-sending this one as well could
            # make a second QBO record (its marker differs from the new write's).
            row.state = OutboxState.SUPERSEDED
    session.add(entry)
    session.flush()
    return entry


# -- support's calls ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row as the queue view and `costbridge outbox list` show it."""

    id: int
    company_id: int
    project_id: int | None
    entity: str
    local_kind: str
    local_id: int
    operation: str
    state: str
    attempts: int
    qbo_id: str | None
    error_code: str | None
    last_error: str | None
    fix: str | None
    error_target: str | None = None


def list_outbox(
    session: Session,
    *,
    state: OutboxState | str | None = None,
    company_id: int | None = None,
    limit: int = 500,
) -> list[OutboxRow]:
    """Outbox rows, newest first, with the QBO id each produced (from `RemoteMapping`)."""
    stmt = select(OutboxEntry).order_by(OutboxEntry.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(OutboxEntry.state == OutboxState(state))
    if company_id is not None:
        stmt = stmt.where(OutboxEntry.company_id == company_id)
    entries = session.scalars(stmt).all()
    mapped = {
        (m.local_kind, m.local_id): m.qbo_id
        for m in session.scalars(
            select(RemoteMapping).where(
                RemoteMapping.local_id.in_({e.local_id for e in entries} or {-1})
            )
        )
    }
    return [
        OutboxRow(
            id=e.id,
            company_id=e.company_id,
            project_id=e.project_id,
            entity=e.entity,
            local_kind=e.local_kind,
            local_id=e.local_id,
            operation=e.operation,
            state=e.state.value,
            attempts=e.attempts,
            qbo_id=mapped.get((e.local_kind, e.local_id)),
            error_code=e.error_code,
            last_error=e.last_error,
            fix=e.fix,
            error_target=e.error_target,
        )
        for e in entries
    ]


def retry(session: Session, ids: Iterable[int]) -> list[OutboxEntry]:
    """Put failed, refused or unknown rows back to be sent; returns the rows that go again.

    A row QBO refused (or that needed an admin) goes as a new attempt of its idempotency record,
    under a new `requestid`; an unknown row keeps its requestid (QBO may have it). Either keeps
    its attempt count, so its next attempt looks QBO up by marker first. Enqueue the returned
    rows after committing (`core.push.queueing.enqueue_recorded`).
    """
    rows = session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(list(ids)))).all()
    again = []
    for row in rows:
        if row.state in RETRYABLE:
            if row.state in REFUSED:
                row.request_attempt = (row.request_attempt or 0) + 1
            row.state = OutboxState.UNKNOWN if row.attempts else OutboxState.PENDING
            row.lease_until = None
            row.claimed_by = None
            again.append(row)
    return again


def retry_failed(session: Session, *, company_id: int | None = None) -> list[OutboxEntry]:
    """`retry` every failed or refused row (of one company)."""
    stmt = select(OutboxEntry.id).where(
        OutboxEntry.state.in_([OutboxState.FAILED, OutboxState.NEEDS_ADMIN])
    )
    if company_id is not None:
        stmt = stmt.where(OutboxEntry.company_id == company_id)
    return retry(session, session.scalars(stmt).all())


def cancel(session: Session, outbox_id: int) -> OutboxEntry:
    """Never send a row (support's choice); refused while a job is sending it.

    Raises:
        NeedsAdmin: The row does not exist, is being sent right now, or was already sent.
    """
    row = session.get(OutboxEntry, outbox_id)
    if row is None:
        raise NeedsAdmin(f"There is no outbox row {outbox_id}.")
    if row.state == OutboxState.IN_FLIGHT:
        raise NeedsAdmin(
            "This change is being sent right now.", fix="Wait a few seconds and look again."
        )
    if row.state == OutboxState.DONE:
        raise NeedsAdmin("This change was already sent to QuickBooks.")
    row.state = OutboxState.CANCELLED
    row.lease_until = None
    return row


def open_predecessors(session: Session, entry: OutboxEntry) -> Sequence[OutboxEntry]:
    """Earlier writes of the same record that are not finished (this one waits for them)."""
    return open_writes(session, entry.company_id, entry.local_kind, entry.local_id, before=entry.id)


def open_writes(
    session: Session, company_id: int, local_kind: str, local_id: int, *, before: int | None = None
) -> Sequence[OutboxEntry]:
    """Writes of one record that are not finished (only those before row `before`, if given)."""
    stmt = select(OutboxEntry).where(
        OutboxEntry.company_id == company_id,
        OutboxEntry.local_kind == local_kind,
        OutboxEntry.local_id == local_id,
        OutboxEntry.state.in_(OPEN),
    )
    if before is not None:
        stmt = stmt.where(OutboxEntry.id < before)
    return session.scalars(stmt).all()
