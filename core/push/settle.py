"""Settling delivered rows: each row's outcome, its sync run, and what waited behind it.

A row's outcome (`core.push.outcome`) is written with its run's in one commit; then the writes
that waited for it (later edits of the record, files of a bill) are queued. A send that raised
leaves its rows unknown (QBO may have them: the next attempt looks them up by marker before
anything is sent again), and its run says whether RQ retries it or support must.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import metrics
from core.db import utcnow
from core.errors import CostbridgeError
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import RunState
from core.models import SyncRun
from core.push.kinds import PushKinds
from core.push.outcome import Outcome
from core.push.queueing import enqueue_all
from core.runtime import Runtime

log = logging.getLogger(__name__)

#: How a row's delivery outcome reads on its sync run.
RUN_STATE_OF = {
    OutboxState.DONE: RunState.SUCCEEDED,
    OutboxState.NEEDS_ADMIN: RunState.NEEDS_ADMIN,
    OutboxState.BLOCKED: RunState.NEEDS_ADMIN,
    OutboxState.FAILED: RunState.FAILED,
    OutboxState.CANCELLED: RunState.SKIPPED,
    OutboxState.PENDING: RunState.SKIPPED,
}


@dataclass(frozen=True)
class Execution:
    """The job execution delivering rows, as the push core needs to know it.

    Attributes:
        job_id: Its RQ job id (lease tokens and runs carry it); None outside a job.
        retries_left: How many more times RQ runs the job if this execution raises.
        on_run: Called with the id of each run the execution records on (the job keeps it in
            its meta, so the queue view can join job and run).
    """

    job_id: str | None = None
    retries_left: int = 0
    on_run: Callable[[int], None] | None = None


def settle(session: Session, rt: Runtime, results: Sequence[tuple[OutboxEntry, Outcome]]) -> None:
    """Write each row's outcome and close its run, in one commit; then queue what waited."""
    followers: list[OutboxEntry] = []
    closed: list[SyncRun] = []
    kinds = PushKinds.of(rt.pm)
    for row, outcome in results:
        row.lease_until = None
        row.claimed_by = None
        if outcome.state == OutboxState.PENDING:
            # Waiting is not an attempt: the row goes back untouched.
            row.state = OutboxState.PENDING
            row.attempts = max(row.attempts - 1, 0)
        else:
            row.state = outcome.state
        row.last_error = None if outcome.state == OutboxState.DONE else outcome.message
        row.error_code = outcome.code
        row.fix = outcome.fix or None
        row.error_target = outcome.target
        run = session.get(SyncRun, row.run_id) if row.run_id else None
        if run is not None and run.state in (RunState.QUEUED, RunState.RUNNING):
            _close(run, RUN_STATE_OF.get(outcome.state, RunState.FAILED), outcome)
            closed.append(run)
        if outcome.state in (OutboxState.DONE, OutboxState.CANCELLED):
            followers.extend(waiting_behind(session, kinds, row))
    session.commit()
    for run in closed:
        metrics.sync_run_finished(run.kind, run.state)
    if followers:
        try:
            enqueue_all(session, rt, followers, trigger="follow-up")
        except Exception:  # Redis away: the sweeper sends them
            log.warning("could not queue follow-up pushes", exc_info=True)


def _close(run: SyncRun, state: RunState, outcome: Outcome) -> None:
    run.state = state
    run.finished_at = utcnow()
    run.message = outcome.message
    run.fix = outcome.fix or None
    run.detail = outcome.detail or None
    run.counts = {"pushed": 1 if outcome.state == OutboxState.DONE else 0}


def waiting_behind(session: Session, kinds: PushKinds, row: OutboxEntry) -> list[OutboxEntry]:
    """Pending rows that waited for this one: later writes of the record, and the records
    that go up under it (files of a bill)."""
    later = list(
        session.scalars(
            select(OutboxEntry).where(
                OutboxEntry.company_id == row.company_id,
                OutboxEntry.local_kind == row.local_kind,
                OutboxEntry.local_id == row.local_id,
                OutboxEntry.id > row.id,
                OutboxEntry.state == OutboxState.PENDING,
            )
        )
    )
    kind = kinds.get(row.local_kind)
    for child in kinds.children_of(kind) if kind is not None else []:
        later += list(
            session.scalars(
                select(OutboxEntry).where(
                    OutboxEntry.local_kind == child.name,
                    OutboxEntry.local_id.in_(child.reader.children_of(row.local_id)),
                    OutboxEntry.state == OutboxState.PENDING,
                )
            )
        )
    return later


def mark_unknown(
    session: Session, rows: Sequence[OutboxEntry], settled: set[int], token: str, exc: BaseException
) -> None:
    """After a send raised: every row this execution still holds may or may not be in QBO."""
    for row in rows:
        if row.id in settled:
            continue
        current = session.get(OutboxEntry, row.id)
        if current is None or current.claimed_by != token:
            continue
        current.state = OutboxState.UNKNOWN
        current.lease_until = None
        current.claimed_by = None
        current.last_error = describe(exc)
        current.error_code = getattr(exc, "code", None) or None
        current.error_target = None


def retry_or_give_up(
    session: Session, run: SyncRun, outbox_id: int, exc: BaseException, execution: Execution
) -> None:
    """Say on the run whether RQ tries again or support must (after the last attempt)."""
    entry = session.get(OutboxEntry, outbox_id)
    if execution.retries_left:
        run.state = RunState.QUEUED
        run.message = "Will retry: " + describe(exc)
    else:
        run.state = RunState.FAILED
        run.finished_at = utcnow()
        attempts = entry.attempts if entry is not None else 1
        tries = f"{attempts} attempt{'' if attempts == 1 else 's'}"
        run.message = f"Gave up after {tries}: {describe(exc)}"
        run.fix = "Support can retry it from the queue once QuickBooks answers again."
    session.commit()
    if run.state == RunState.FAILED:
        metrics.sync_run_finished(run.kind, run.state)


def start_run(session: Session, run: SyncRun, execution: Execution) -> None:
    """The run is under way, in this execution."""
    run.state = RunState.RUNNING
    run.started_at = utcnow()
    run.attempts += 1
    if execution.job_id is not None:
        run.job_id = execution.job_id
    if execution.on_run is not None:
        execution.on_run(run.id)
    session.commit()


def finish_run(
    session: Session,
    run: SyncRun,
    state: RunState,
    message: str,
    *,
    counts: dict[str, Any] | None = None,
) -> None:
    """Close a run that ended without a delivery outcome (skipped)."""
    run.state = state
    run.finished_at = utcnow()
    run.message = message
    run.fix = None
    run.detail = None
    if counts is not None:
        run.counts = counts
    session.commit()
    metrics.sync_run_finished(run.kind, state)


def describe(exc: BaseException) -> str:
    """An error in one line for the run and the row (an admin-facing one in its own words)."""
    if isinstance(exc, CostbridgeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:500]
