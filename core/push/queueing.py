"""Putting outbox rows on the push queue: after a commit, after a reconnect, and by the sweeper.

One job per row under a deterministic id (`push-<install>-<outbox id>`), so the sweeper and RQ's
own retries can never put two live jobs for one row on the queue. Never-tried creates that QBO
takes in batches share one lead job per company and entity while it waits (a Redis flag with a
TTL): the lead carries them in its batch, or drains them after (`core.push.run`). The job runs
`core.jobs.push_jobs.push_outbox`, named by its dotted path so this package never imports the
job layer; the sweeper (`sweep_outbox`) re-enqueues whatever Redis lost or a dead worker held.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from core import metrics
from core import namespace
from core.db import utcnow
from core.jobs import queues
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import RunState
from core.models import SyncRun
from core.push import leases
from core.push.batch import BATCHABLE
from core.runtime import Runtime

log = logging.getLogger(__name__)

#: The job that delivers one row, by the dotted path RQ stores with each queued job.
PUSH_JOB = "core.jobs.push_jobs.push_outbox"
#: States a push job may take a row from (an IN_FLIGHT row too, once its lease ran out).
CLAIMABLE = (OutboxState.PENDING, OutboxState.UNKNOWN)
FINISHED_JOB_STATES = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
#: A scheduled retry this late means no live scheduler will queue it (its worker died).
SCHEDULER_LATE = dt.timedelta(seconds=10)
#: Pushes retry soon: an unknown outcome is resolved by a look-up, not by waiting.
PUSH_RETRY = Retry(max=5, interval=[2, 10, 30, 120, 600])
#: A queued lead job's flag outlives no job: a lost one frees it by itself.
LEAD_TTL = 120
#: Lead jobs of one company and entity that may wait at once (each drains batches in parallel;
#: QBO's throttle, shared through Redis, keeps them within its limits).
LEAD_SLOTS = 4


def push_job_id(rt: Runtime, outbox_id: int) -> str:
    """The RQ job id of an outbox row's push (one per row, under this install's id)."""
    return namespace.job_id(rt.install_id, "push", outbox_id)


def enqueue_recorded(rt: Runtime, entries: Sequence[OutboxEntry]) -> int:
    """Queue the outbox rows a committed change recorded; returns how many were queued.

    Call it after the commit. When Redis is away nothing is lost: the rows stay pending and the
    sweeper queues them.
    """
    ids = [e.id for e in entries]
    if not ids:
        return 0
    with rt.sessions() as session:
        rows = session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.id.in_(ids), OutboxEntry.state.in_(CLAIMABLE))
            .order_by(OutboxEntry.id)
        ).all()
        try:
            return enqueue_all(session, rt, rows, trigger="change")
        except Exception:  # Redis away: the sweeper sends them
            log.warning("could not queue %d recorded pushes", len(rows), exc_info=True)
            return 0


def resume_company(rt: Runtime, company_id: int) -> int:
    """Re-queue a company's pushes that waited for its QuickBooks connection.

    Called once the company is connected again; returns how many pushes were queued.
    """
    with rt.sessions() as session:
        rows = session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.company_id == company_id, OutboxEntry.state == OutboxState.BLOCKED)
            .order_by(OutboxEntry.id)
        ).all()
        for entry in rows:
            entry.state = OutboxState.PENDING
        session.commit()
        return enqueue_all(session, rt, rows, trigger="reconnect")


def sweep_outbox(rt: Runtime) -> dict[str, int]:
    """Re-enqueue every push Redis may have lost or a dead worker held.

    Candidates: pending and unknown rows, and rows in flight whose lease ran out (their job's
    heartbeat stopped: the worker died). Those become unknown first (the dead attempt may have
    reached QBO; the next one looks it up by marker), and a job id still marked "started" by
    the dead worker is replaced. Safe to run at any time: job ids are deterministic, so a push
    still queued is not enqueued twice, and a delivered row is skipped by the job itself.
    """
    now = utcnow()
    with rt.sessions() as session:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.state == OutboxState.IN_FLIGHT, OutboxEntry.lease_until < now)
            .values(
                state=OutboxState.UNKNOWN,
                lease_until=None,
                last_error="The worker sending this stopped before it finished; it is looked "
                "up in QuickBooks before anything is sent again.",
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        rows = session.scalars(
            select(OutboxEntry).where(OutboxEntry.state.in_(CLAIMABLE)).order_by(OutboxEntry.id)
        ).all()
        enqueued = enqueue_all(session, rt, rows, trigger="sweeper")
    return {"candidates": len(rows), "enqueued": enqueued}


def enqueue_push(rt: Runtime, entry: OutboxEntry, run: SyncRun) -> Any:
    """Put a committed outbox row on the push queue (None when a job for it is still live).

    One job id per row (`push-<install>-<id>`), so the sweeper and RQ's own retries can never
    put two live jobs for one row on the queue; a finished or failed job of an earlier attempt
    is removed first so the row can go again, and so is a "started" job whose worker died (the
    row's lease ran out while that job held it, or the worker stopped beating).
    """
    job_id = push_job_id(rt, entry.id)
    try:
        previous = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    except NoSuchJobError:
        previous = None
    if previous is not None:
        status = previous.get_status(refresh=False)
        if status not in FINISHED_JOB_STATES and not _dead(previous, status, entry):
            return None
        previous.delete()
    entry.run_id = run.id
    return queues.enqueue(
        rt.redis,
        queues.PUSH,
        PUSH_JOB,
        job_id=job_id,
        kwargs={"outbox_id": entry.id, "run_id": run.id},
        meta={"project_id": entry.project_id, "kind": "push", "run_id": run.id},
        retry=PUSH_RETRY,
    )


def _overdue(job: Job) -> bool:
    """A retry whose time passed long ago: the scheduler that should queue it is gone."""
    registry = queues.queue(queues.PUSH, job.connection).scheduled_job_registry
    try:
        when = registry.get_scheduled_time(job)
    except NoSuchJobError:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return bool(utcnow() - when > SCHEDULER_LATE)


def _off_its_queue(job: Job) -> bool:
    """A "queued" job its queue no longer lists: a worker took it off and was killed before it
    marked the job started, so nothing will ever run it (a second copy would only find the row
    claimed or done)."""
    key = queues.queue(job.origin, job.connection).key
    return job.connection.lpos(key, job.id) is None


def _dead(job: Job, status: JobStatus | None, entry: OutboxEntry) -> bool:
    """Whether a job RQ still holds belongs to a worker that died (or a lost scheduler).

    A live push job claims its row within moments of starting and its heartbeat keeps the lease
    valid (or it ends at once, having nothing to do). So a started job is dead when it holds
    the row and its lease ran out, or when it started more than a lease ago without holding it.
    """
    if status == JobStatus.SCHEDULED:
        return _overdue(job)
    if status == JobStatus.QUEUED:
        return _off_its_queue(job)
    if status != JobStatus.STARTED:
        return False
    holds = entry.claimed_by is not None and entry.claimed_by.startswith(f"{job.id}:")
    if holds:
        return entry.state != OutboxState.IN_FLIGHT or (
            entry.lease_until is None or entry.lease_until < utcnow()
        )
    started = job.started_at
    if started is None:
        return True
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.UTC)
    return utcnow() - started > leases.LEASE


def enqueue_all(session: Session, rt: Runtime, rows: Sequence[OutboxEntry], *, trigger: str) -> int:
    """Queue a job per row, their runs written in one commit; returns how many were queued.

    A never-tried create waits for the lead job of its company and entity when one is queued
    (`needs_job`). The sweeper's own calls queue every row, so nothing waits on a lost lead.
    """
    wanted = [row for row in rows if trigger == "sweeper" or needs_job(rt, row)]
    runs = [
        SyncRun(company_id=row.company_id, project_id=row.project_id, kind="push", trigger=trigger)
        for row in wanted
    ]
    session.add_all(runs)
    session.commit()
    enqueued = 0
    unused: list[SyncRun] = []
    try:
        for entry, run in zip(wanted, runs, strict=True):
            previous = entry.run_id
            if enqueue_push(rt, entry, run) is not None:
                enqueued += 1
                _close_replaced(session, previous, run)
            else:
                unused.append(run)
                clear_lead(rt, entry)  # no job was queued for it: it leads nothing
    except Exception:
        # Redis is away: the rows stay pending for the sweeper; drop the runs we named.
        for run in runs[enqueued + len(unused) :]:
            unused.append(run)
        raise
    finally:
        for run in unused:
            session.delete(run)
        session.commit()
    return enqueued


def _close_replaced(session: Session, previous: int | None, run: SyncRun) -> None:
    """Close the run a row's lost job was to record on: `run` delivers the row now.

    Only a run still queued: its job never ran again (Redis lost it, or the worker whose
    scheduler was to retry it died), so nothing else would ever close it.
    """
    if previous is None or previous == run.id:
        return
    old = session.get(SyncRun, previous)
    if old is not None and old.kind == "push" and old.state == RunState.QUEUED:
        old.state = RunState.SKIPPED
        old.finished_at = utcnow()
        old.message = (
            f"Its job was lost (a flushed Redis, or a stopped worker that was to retry it); "
            f"run {run.id} sends this change."
        )
        metrics.sync_run_finished(old.kind, old.state)


# -- lead jobs of batched creates -----------------------------------------------------------------


def fresh_create(entry: OutboxEntry) -> bool:
    """A never-tried create of an entity QBO takes in batches (it may ride a lead's batch)."""
    return (
        entry.operation == "create"
        and entry.entity in BATCHABLE
        and entry.attempts == 0
        and entry.state == OutboxState.PENDING
    )


def _lead_keys(rt: Runtime, company_id: int, entity: str) -> list[str]:
    return [
        namespace.key(rt.install_id, "push-lead", company_id, entity, n) for n in range(LEAD_SLOTS)
    ]


def needs_job(rt: Runtime, row: OutboxEntry) -> bool:
    """False for a fresh create while a lead job of its company and entity is waiting."""
    if not fresh_create(row):
        return True
    try:
        return any(
            rt.redis.set(key, row.id, nx=True, ex=LEAD_TTL)
            for key in _lead_keys(rt, row.company_id, row.entity)
        )
    except Exception:  # noqa: BLE001 - without Redis nothing is queued anyway
        return True


def clear_lead(rt: Runtime, entry: OutboxEntry) -> None:
    """Free the lead flag `entry` holds: creates recorded from now on need a new lead job."""
    try:
        for key in _lead_keys(rt, entry.company_id, entry.entity):
            if rt.redis.get(key) == str(entry.id).encode():
                rt.redis.delete(key)
    except Exception:  # noqa: BLE001 - then the flag runs out by itself
        log.warning("could not clear the push lead flag of company %s", entry.company_id)
