"""Job functions. Each takes ids only, opens its own session and records its `SyncRun`.

RQ retries any exception, so a job catches `NeedsAdmin` and `Rejected` itself, writes the reason
on the run and ends; only `TryLater` and unexpected errors escape to RQ.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from rq import Retry
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from core import metrics
from core import namespace
from core import runtime as runtime_mod
from core.db import utcnow
from core.errors import CostbridgeError
from core.errors import NeedsAdmin
from core.errors import Rejected
from core.jobs import queues
from core.models import Attachment
from core.models import Company
from core.models import ConnectionStatus
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import RunState
from core.models import SyncRun
from core.push import deliver
from core.push import leases
from core.qbo import client_for
from core.qbo.errors import AuthenticationFailed
from core.qbo.errors import NotConnected
from core.qbo.errors import ReconnectNeeded
from core.sync.jobs import sweep_pulls

log = logging.getLogger(__name__)
#: States a push job may take a row from (an IN_FLIGHT row too, once its lease ran out).
CLAIMABLE = (OutboxState.PENDING, OutboxState.UNKNOWN)
#: What means "QuickBooks is not connected": the row waits for a reconnect, not for an admin fix.
CONNECTION_PROBLEMS = (NotConnected, ReconnectNeeded, AuthenticationFailed)
FINISHED_JOB_STATES = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
#: How a row's delivery outcome reads on its sync run.
RUN_STATE_OF = {
    OutboxState.DONE: RunState.SUCCEEDED,
    OutboxState.NEEDS_ADMIN: RunState.NEEDS_ADMIN,
    OutboxState.BLOCKED: RunState.NEEDS_ADMIN,
    OutboxState.FAILED: RunState.FAILED,
    OutboxState.CANCELLED: RunState.SKIPPED,
    OutboxState.PENDING: RunState.SKIPPED,
}


def push_outbox(outbox_id: int, run_id: int) -> dict[str, Any]:
    """Deliver one outbox row (and, for a fresh create, up to 29 more in one QBO batch).

    The row is claimed with one conditional UPDATE under a short lease that a heartbeat renews
    while the job runs, so two jobs can never both send it and a killed worker's row is taken
    back within seconds (`core.push.leases`). A job that finds nothing to do records its run
    as skipped, never as succeeded.

    Args:
        outbox_id: The `OutboxEntry` to deliver.
        run_id: The `SyncRun` recording this delivery.

    Returns:
        A JSON-safe summary (RQ keeps it as the job result).
    """
    rt = runtime_mod.current()
    job = get_current_job()
    token = leases.new_token(job.id if job is not None else None)
    with rt.sessions() as session:
        run = session.get(SyncRun, run_id)
        entry = session.get(OutboxEntry, outbox_id)
        if run is None or entry is None:
            return {"skipped": "outbox row or run no longer exists"}
        if entry.operation == "create" and entry.entity in deliver.BATCHABLE:
            # Creates recorded from now on need a new lead job; those before ride this batch
            # (or a batch already carried this row: its lead flag is freed all the same).
            _clear_lead(rt, entry)
        _start(session, run)
        if not leases.claim(session, outbox_id, token):
            return _skip(session, run, outbox_id)
        with leases.Heartbeat(rt.engine, token):
            result = _deliver(session, rt, run, outbox_id, token)
        lead = session.get(OutboxEntry, outbox_id)
        if lead is not None and lead.operation == "create" and lead.entity in deliver.BATCHABLE:
            result["drained"] = _drain(session, rt, lead.company_id, lead.entity, token)
        return result


#: How long one job keeps taking further batches of waiting creates.
DRAIN_FOR = dt.timedelta(seconds=20)
#: A queued lead job's flag outlives no job: a lost one frees it by itself.
LEAD_TTL = 120
#: Lead jobs of one company and entity that may wait at once (each drains batches in parallel;
#: QBO's throttle, shared through Redis, keeps them within its limits).
LEAD_SLOTS = 4


def _lead_keys(rt: runtime_mod.Runtime, company_id: int, entity: str) -> list[str]:
    return [
        namespace.key(rt.install_id, "push-lead", company_id, entity, n) for n in range(LEAD_SLOTS)
    ]


def _fresh_create(entry: OutboxEntry) -> bool:
    return (
        entry.operation == "create"
        and entry.entity in deliver.BATCHABLE
        and entry.attempts == 0
        and entry.state == OutboxState.PENDING
    )


def _clear_lead(rt: runtime_mod.Runtime, entry: OutboxEntry) -> None:
    try:
        for key in _lead_keys(rt, entry.company_id, entry.entity):
            if rt.redis.get(key) == str(entry.id).encode():
                rt.redis.delete(key)
    except Exception:  # noqa: BLE001 - then the flag runs out by itself
        log.warning("could not clear the push lead flag of company %s", entry.company_id)


def _drain(
    session: Session, rt: runtime_mod.Runtime, company_id: int, entity: str, token: str
) -> int:
    """Send further batches of never-tried creates that wait with no job of their own.

    Recording many creates at once queues one lead job (see `_enqueue_all`); the lead takes 29
    more into its batch and then, for a while, the next 30, each batch with its own run.
    """
    sent = 0
    until = utcnow() + DRAIN_FOR
    job = get_current_job()
    while utcnow() < until:
        next_id = session.scalar(
            select(OutboxEntry.id)
            .where(
                OutboxEntry.company_id == company_id,
                OutboxEntry.entity == entity,
                OutboxEntry.operation == "create",
                OutboxEntry.state == OutboxState.PENDING,
                OutboxEntry.attempts == 0,
            )
            .order_by(OutboxEntry.id)
            .limit(1)
        )
        if next_id is None:
            break
        run = SyncRun(company_id=company_id, kind="push", trigger="batch")
        session.add(run)
        session.commit()
        lead_token = leases.new_token(job.id if job is not None else None)
        if not leases.claim(session, next_id, lead_token):
            session.delete(run)
            session.commit()
            continue
        _start(session, run)
        with leases.Heartbeat(rt.engine, lead_token):
            _deliver(session, rt, run, next_id, lead_token)
        sent += 1
    else:
        # Time is up with creates still waiting: hand them to a new lead job.
        waiting = session.scalars(
            select(OutboxEntry)
            .where(
                OutboxEntry.company_id == company_id,
                OutboxEntry.entity == entity,
                OutboxEntry.operation == "create",
                OutboxEntry.state == OutboxState.PENDING,
                OutboxEntry.attempts == 0,
            )
            .order_by(OutboxEntry.id)
            .limit(1)
        ).all()
        if waiting:
            _enqueue_all(session, rt, waiting, trigger="batch")
    return sent


def _skip(session: Session, run: SyncRun, outbox_id: int) -> dict[str, Any]:
    """Record why this job sent nothing (its run is skipped, not succeeded)."""
    entry = session.get(OutboxEntry, outbox_id)
    assert entry is not None
    if entry.state == OutboxState.DONE and entry.run_id == run.id:
        # A batch carried it and already closed this run.
        return {"skipped": "Already delivered."}
    words = {
        OutboxState.DONE: "Already delivered.",
        OutboxState.IN_FLIGHT: "Another job is sending this change; if that job dies, the "
        "sweeper takes it back within seconds.",
        OutboxState.CANCELLED: "Cancelled; not sent.",
    }.get(entry.state, f"Nothing to do: the change is {entry.state.value.replace('_', ' ')}.")
    _finish(session, run, RunState.SKIPPED, words, counts={"pushed": 0})
    return {"skipped": words}


def _deliver(
    session: Session, rt: runtime_mod.Runtime, run: SyncRun, outbox_id: int, token: str
) -> dict[str, Any]:
    lead = session.get(OutboxEntry, outbox_id)
    assert lead is not None
    lead.run_id = run.id
    session.commit()
    company = session.get(Company, lead.company_id)
    if (
        company is None
        or not company.realm_id
        or company.connection_status != ConnectionStatus.CONNECTED
    ):
        exc = NotConnected(
            "The company is not connected to QuickBooks, so this change is waiting.",
            fix="Open the company's QuickBooks page and connect (or reconnect) it; waiting "
            "changes are then sent.",
        )
        _settle(session, rt, [(lead, deliver.Outcome.of_error(exc, OutboxState.BLOCKED))])
        return {"blocked": exc.message}
    pusher = deliver.Pusher(rt, session, company, client_for(rt, company.realm_id))
    rows = [lead]
    fresh = lead.operation == "create" and lead.entity in deliver.BATCHABLE and lead.attempts == 1
    if fresh and _batch_room(rt, company.realm_id):
        rows += leases.claim_fresh_creates(session, lead, token)
    settled: set[int] = set()
    try:
        batch: list[tuple[OutboxEntry, Any]] = []
        for row in rows:
            outcome = _one(pusher, row, batch if len(rows) > 1 else None)
            if outcome is not None:
                _settle(session, rt, [(row, outcome)])
                settled.add(row.id)
        if len(batch) == 1:
            row, payload = batch[0]
            single = _guarded(lambda: pusher.create(row, payload, None))  # noqa: B023
            assert single is not None
            _settle(session, rt, [(row, single)])
            settled.add(row.id)
        elif batch:
            answers = pusher.create_batch(batch)
            results = []
            for row, _payload in batch:
                answer = answers[row.id]
                outcome = answer if isinstance(answer, deliver.Outcome) else _of(answer)
                results.append((row, outcome))
            _settle(session, rt, results)
            settled.update(row.id for row, _p in batch)
    except BaseException as exc:
        session.rollback()
        # QBO may or may not have these now: "unknown", looked up by marker before any resend.
        for row in rows:
            if row.id in settled:
                continue
            current = session.get(OutboxEntry, row.id)
            if current is None or current.claimed_by != token:
                continue
            current.state = OutboxState.UNKNOWN
            current.lease_until = None
            current.claimed_by = None
            current.last_error = _describe(exc)
            current.error_code = getattr(exc, "code", None) or None
        _retry_or_give_up(session, run, lead.id, exc)
        raise
    session.expire_all()
    final = session.get(OutboxEntry, outbox_id)
    assert final is not None
    mapping = deliver.mapping_of(session, final.local_kind, final.local_id)
    if final.state == OutboxState.DONE:
        return {"qbo_id": mapping.qbo_id if mapping else None, "batched": len(rows)}
    return {"state": final.state.value, "error": final.last_error}


def _batch_room(rt: runtime_mod.Runtime, realm_id: str) -> bool:
    """Whether QBO's batch budget for the realm has room now.

    QBO counts batch calls (40 a minute) apart from its 500 requests a minute, which batches
    also use. While the batch budget is spent, a lead goes alone as a single create: it uses
    the rest of the request budget instead of waiting, so both budgets carry bills at once.
    """
    from core.qbo.throttle import Limits
    from core.qbo.throttle import RealmThrottle

    try:
        return RealmThrottle(rt.redis, Limits.from_settings(rt.settings)).batch_room(realm_id) > 0
    except Exception as exc:  # noqa: BLE001 - the send's own throttle still holds
        log.warning(
            "batch budget of realm %s not read (%s); sending as a batch anyway",
            realm_id,
            type(exc).__name__,
        )
        return True


def _one(
    pusher: deliver.Pusher, row: OutboxEntry, batch: list[tuple[OutboxEntry, Any]] | None
) -> deliver.Outcome | None:
    """Deliver one row, or put its create aside for the batch (None)."""

    def go() -> deliver.Outcome | None:
        prepared = pusher.prepare(row)
        if isinstance(prepared, deliver.Outcome):
            return prepared
        record, lookups, owner = prepared
        if row.operation == "delete":
            return pusher.delete(row)
        assert record is not None
        if row.operation == "update":
            return pusher.edit(row, owner, record, lookups)
        payload = pusher.payload(owner, record, lookups)
        if batch is not None and row.attempts == 1 and payload.entity in deliver.BATCHABLE:
            batch.append((row, payload))
            return None
        return pusher.create(row, payload, record)

    return _guarded(go)


def _guarded(go: Any) -> deliver.Outcome | None:
    """Run one delivery step; an admin-facing error becomes the row's outcome."""
    try:
        result: deliver.Outcome | None = go()
    except CONNECTION_PROBLEMS as exc:
        return deliver.Outcome.of_error(exc, OutboxState.BLOCKED)
    except (NeedsAdmin, Rejected) as exc:
        return _of(exc)
    return result


def _of(exc: CostbridgeError) -> deliver.Outcome:
    if isinstance(exc, CONNECTION_PROBLEMS):
        return deliver.Outcome.of_error(exc, OutboxState.BLOCKED)
    if isinstance(exc, NeedsAdmin):
        return deliver.Outcome.of_error(exc, OutboxState.NEEDS_ADMIN)
    if isinstance(exc, Rejected):
        return deliver.Outcome.of_error(exc, OutboxState.FAILED)
    raise exc


def _settle(
    session: Session,
    rt: runtime_mod.Runtime,
    results: Sequence[tuple[OutboxEntry, deliver.Outcome]],
) -> None:
    """Write each row's outcome and close its run, in one commit; then queue what waited."""
    followers: list[OutboxEntry] = []
    closed: list[SyncRun] = []
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
        run = session.get(SyncRun, row.run_id) if row.run_id else None
        if run is not None and run.state in (RunState.QUEUED, RunState.RUNNING):
            _close(run, RUN_STATE_OF.get(outcome.state, RunState.FAILED), outcome)
            closed.append(run)
        if outcome.state in (OutboxState.DONE, OutboxState.CANCELLED):
            followers.extend(_waiting_behind(session, row))
    session.commit()
    for run in closed:
        metrics.sync_run_finished(run.kind, run.state)
    if followers:
        try:
            _enqueue_all(session, rt, followers, trigger="follow-up")
        except Exception:  # Redis away: the sweeper sends them
            log.warning("could not queue follow-up pushes", exc_info=True)


def _close(run: SyncRun, state: RunState, outcome: deliver.Outcome) -> None:
    run.state = state
    run.finished_at = utcnow()
    run.message = outcome.message
    run.fix = outcome.fix or None
    run.detail = outcome.detail or None
    run.counts = {"pushed": 1 if outcome.state == OutboxState.DONE else 0}


def _waiting_behind(session: Session, row: OutboxEntry) -> list[OutboxEntry]:
    """Pending rows that waited for this one: later writes of the record, files of a bill."""
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
    if row.local_kind == "bill":
        files = select(Attachment.id).where(Attachment.bill_id == row.local_id)
        later += list(
            session.scalars(
                select(OutboxEntry).where(
                    OutboxEntry.local_kind == "attachment",
                    OutboxEntry.local_id.in_(files),
                    OutboxEntry.state == OutboxState.PENDING,
                )
            )
        )
    return later


def _retry_or_give_up(session: Session, run: SyncRun, outbox_id: int, exc: BaseException) -> None:
    entry = session.get(OutboxEntry, outbox_id)
    job = get_current_job()
    if job is not None and job.retries_left:
        run.state = RunState.QUEUED
        run.message = "Will retry: " + _describe(exc)
    else:
        run.state = RunState.FAILED
        run.finished_at = utcnow()
        attempts = entry.attempts if entry is not None else 1
        tries = f"{attempts} attempt{'' if attempts == 1 else 's'}"
        run.message = f"Gave up after {tries}: {_describe(exc)}"
        run.fix = "Support can retry it from the queue once QuickBooks answers again."
    session.commit()
    if run.state == RunState.FAILED:
        metrics.sync_run_finished(run.kind, run.state)


def _start(session: Session, run: SyncRun) -> None:
    run.state = RunState.RUNNING
    run.started_at = utcnow()
    run.attempts += 1
    job = get_current_job()
    if job is not None:
        run.job_id = job.id
        job.meta["run_id"] = run.id
        job.save_meta()  # type: ignore[no-untyped-call]
    session.commit()


def _finish(
    session: Session,
    run: SyncRun,
    state: RunState,
    message: str,
    *,
    fix: str = "",
    detail: str = "",
    counts: dict[str, Any] | None = None,
) -> None:
    run.state = state
    run.finished_at = utcnow()
    run.message = message
    run.fix = fix or None
    run.detail = detail or None
    if counts is not None:
        run.counts = counts
    session.commit()
    metrics.sync_run_finished(run.kind, state)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CostbridgeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:500]


def sweep() -> dict[str, dict[str, int]]:
    """The maintenance sweep workers queue: pushes, then pulls, that Redis no longer holds.

    Within one sweep every outbox row waiting to be sent and every pull run still queued gets a
    live job again, and every pull flag that outlived its pull is cleared.
    """
    outbox = sweep_outbox()
    return {"outbox": outbox, "pulls": sweep_pulls(runtime_mod.current())}


def sweep_outbox() -> dict[str, int]:
    """Re-enqueue every push Redis may have lost or a dead worker held.

    Candidates: pending and unknown rows, and rows in flight whose lease ran out (their job's
    heartbeat stopped: the worker died). Those become unknown first (the dead attempt may have
    reached QBO; the next one looks it up by marker), and a job id still marked "started" by
    the dead worker is replaced. Safe to run at any time: job ids are deterministic, so a push
    still queued is not enqueued twice, and a delivered row is skipped by the job itself.
    """
    rt = runtime_mod.current()
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
        enqueued = _enqueue_all(session, rt, rows, trigger="sweeper")
    return {"candidates": len(rows), "enqueued": enqueued}


def push_job_id(rt: runtime_mod.Runtime, outbox_id: int) -> str:
    """The RQ job id of an outbox row's push (one per row, under this install's id)."""
    return namespace.job_id(rt.install_id, "push", outbox_id)


def enqueue_push(rt: runtime_mod.Runtime, entry: OutboxEntry, run: SyncRun) -> Any:
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
        push_outbox,
        job_id=job_id,
        kwargs={"outbox_id": entry.id, "run_id": run.id},
        meta={"project_id": entry.project_id, "kind": "push", "run_id": run.id},
        retry=PUSH_RETRY,
    )


#: A scheduled retry this late means no live scheduler will queue it (its worker died).
SCHEDULER_LATE = dt.timedelta(seconds=10)
#: Pushes retry soon: an unknown outcome is resolved by a look-up, not by waiting.
PUSH_RETRY = Retry(max=5, interval=[2, 10, 30, 120, 600])


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


def _dead(job: Job, status: JobStatus | None, entry: OutboxEntry) -> bool:
    """Whether a job RQ still holds belongs to a worker that died (or a lost scheduler).

    A live push job claims its row within moments of starting and its heartbeat keeps the lease
    valid (or it ends at once, having nothing to do). So a started job is dead when it holds
    the row and its lease ran out, or when it started more than a lease ago without holding it.
    """
    if status == JobStatus.SCHEDULED:
        return _overdue(job)
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


def resume_company(rt: runtime_mod.Runtime, company_id: int) -> int:
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
        return _enqueue_all(session, rt, rows, trigger="reconnect")


def _enqueue_all(
    session: Session, rt: runtime_mod.Runtime, rows: Sequence[OutboxEntry], *, trigger: str
) -> int:
    """Queue a job per row, their runs written in one commit.

    Never-tried creates that QBO takes in batches share one lead job per company and entity
    while it waits (a Redis flag): the lead carries them in its batch, or drains them after
    (`_drain`). The sweeper's own calls queue every row, so nothing waits on a lost lead.
    """
    wanted = [row for row in rows if trigger == "sweeper" or _needs_job(rt, row)]
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
                _clear_lead(rt, entry)  # no job was queued for it: it leads nothing
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


def _needs_job(rt: runtime_mod.Runtime, row: OutboxEntry) -> bool:
    """False for a fresh create while a lead job of its company and entity is waiting."""
    if not _fresh_create(row):
        return True
    try:
        return any(
            rt.redis.set(key, row.id, nx=True, ex=LEAD_TTL)
            for key in _lead_keys(rt, row.company_id, row.entity)
        )
    except Exception:  # noqa: BLE001 - without Redis nothing is queued anyway
        return True


def enqueue_recorded(rt: runtime_mod.Runtime, entries: Sequence[OutboxEntry]) -> int:
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
            return _enqueue_all(session, rt, rows, trigger="change")
        except Exception:  # Redis away: the sweeper sends them
            log.warning("could not queue %d recorded pushes", len(rows), exc_info=True)
            return 0
