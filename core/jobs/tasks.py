"""Job functions. Each takes ids only, opens its own session and records its `SyncRun`.

RQ retries any exception, so a job catches `NeedsAdmin` and `Rejected` itself, writes the reason
on the run and ends; only `TryLater` and unexpected errors escape to RQ.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from core import metrics
from core import runtime as runtime_mod
from core.contracts import PushRequest
from core.contracts import SyncContext
from core.db import utcnow
from core.errors import CostbridgeError
from core.errors import NeedsAdmin
from core.errors import Rejected
from core.jobs import queues
from core.models import Company
from core.models import ConnectionStatus
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import RemoteMapping
from core.models import RunState
from core.models import SyncRun
from core.plugins import call_one
from core.project_settings import project_view
from core.qbo import client_for
from core.qbo.errors import AuthenticationFailed
from core.qbo.errors import NotConnected
from core.qbo.errors import ReconnectNeeded

log = logging.getLogger(__name__)
#: Longer than the push job's timeout (10 minutes), so a lease never runs out under a live job.
LEASE = dt.timedelta(minutes=15)
#: States a push job may take a row from (an expired IN_FLIGHT lease too).
CLAIMABLE = (OutboxState.PENDING, OutboxState.UNKNOWN)
#: What means "QuickBooks is not connected": the row waits for a reconnect, not for an admin fix.
CONNECTION_PROBLEMS = (NotConnected, ReconnectNeeded, AuthenticationFailed)
FINISHED_JOB_STATES = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def push_outbox(outbox_id: int, run_id: int) -> dict[str, Any]:
    """Deliver one outbox row through the plugin that owns its entity.

    The row is claimed with one conditional UPDATE, so two jobs for the same row (a sweeper's and
    a retry's) can never both send it; the loser records that and ends.

    Args:
        outbox_id: The `OutboxEntry` to deliver.
        run_id: The `SyncRun` recording this delivery.

    Returns:
        A JSON-safe summary (RQ keeps it as the job result).
    """
    rt = runtime_mod.current()
    with rt.sessions() as session:
        run = session.get(SyncRun, run_id)
        if run is None or session.get(OutboxEntry, outbox_id) is None:
            return {"skipped": "outbox row or run no longer exists"}
        _start(session, run)
        if not _claim(session, outbox_id):
            entry = session.get(OutboxEntry, outbox_id)
            assert entry is not None
            done = entry.state == OutboxState.DONE
            words = "Already delivered." if done else "Another worker is sending this change."
            _finish(session, run, RunState.SUCCEEDED, words, counts={"pushed": 0})
            return {"skipped": words, "qbo_id": entry.qbo_id}
        entry = session.get(OutboxEntry, outbox_id)
        assert entry is not None
        try:
            result = _push(session, rt, entry, run)
        except CONNECTION_PROBLEMS as exc:
            # Nothing can go until someone reconnects QuickBooks; the connect flow resumes it.
            _settle(session, entry, run, OutboxState.BLOCKED, RunState.NEEDS_ADMIN, exc)
            return {"blocked": exc.message}
        except NeedsAdmin as exc:
            _settle(session, entry, run, OutboxState.NEEDS_ADMIN, RunState.NEEDS_ADMIN, exc)
            return {"error": exc.message}
        except Rejected as exc:
            _settle(session, entry, run, OutboxState.FAILED, RunState.FAILED, exc)
            return {"error": exc.message}
        except BaseException as exc:
            session.rollback()
            # QBO may or may not have the record now: "unknown", reconciled on the next attempt
            # through the same requestid, never "failed".
            entry.state = OutboxState.UNKNOWN
            entry.lease_until = None
            entry.last_error = _describe(exc)
            job = get_current_job()
            if job is not None and job.retries_left:
                run.state = RunState.QUEUED
                run.message = "Will retry: " + _describe(exc)
            else:
                run.state = RunState.FAILED
                run.finished_at = utcnow()
                tries = f"{entry.attempts} attempt{'' if entry.attempts == 1 else 's'}"
                run.message = f"Gave up after {tries}: {_describe(exc)}"
                run.fix = "Support can retry it from the queue once QuickBooks answers again."
            session.commit()
            if run.state == RunState.FAILED:
                metrics.sync_run_finished(run.kind, run.state)
            raise
        entry.state = OutboxState.DONE
        entry.qbo_id = result.qbo_id
        entry.lease_until = None
        entry.last_error = None
        _remember_mapping(session, entry, result.qbo_id, result.sync_token)
        _finish(
            session,
            run,
            RunState.SUCCEEDED,
            f"Sent {entry.entity} {result.qbo_id}.",
            counts={"pushed": 1},
        )
        return {"qbo_id": result.qbo_id}


def _claim(session: Session, outbox_id: int) -> bool:
    """Take the row for this job if nobody holds it; True when this job may send it."""
    now = utcnow()
    claimed = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == outbox_id)
        .where(
            OutboxEntry.state.in_(CLAIMABLE)
            | ((OutboxEntry.state == OutboxState.IN_FLIGHT) & (OutboxEntry.lease_until < now))
        )
        .values(
            state=OutboxState.IN_FLIGHT,
            attempts=OutboxEntry.attempts + 1,
            lease_until=now + LEASE,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.expire_all()
    return bool(getattr(claimed, "rowcount", 0))


def _settle(
    session: Session,
    entry: OutboxEntry,
    run: SyncRun,
    state: OutboxState,
    run_state: RunState,
    exc: CostbridgeError,
) -> None:
    session.rollback()
    entry.state = state
    entry.last_error = str(exc)
    entry.lease_until = None
    _finish(session, run, run_state, exc.message, fix=exc.fix, detail=exc.detail)


def _push(session: Session, rt: runtime_mod.Runtime, entry: OutboxEntry, run: SyncRun) -> Any:
    company = session.get(Company, entry.company_id)
    project = session.get(Project, entry.project_id) if entry.project_id else None
    if (
        company is None
        or not company.realm_id
        or company.connection_status != ConnectionStatus.CONNECTED
    ):
        raise NotConnected(
            "The company is not connected to QuickBooks, so this change is waiting.",
            fix="Open the company's QuickBooks page and connect (or reconnect) it; waiting "
            "changes are then sent.",
        )
    if project is None:
        raise NeedsAdmin("This change does not belong to a project any more.")
    owner = rt.pm.owner_of(entry.entity)
    if owner is None or owner not in project.enabled_plugin_names(rt.pm.names()):
        raise NeedsAdmin(
            f"No enabled plugin sends {entry.entity} records to QuickBooks.",
            fix="Enable the plugin for this project, or ask support which one to install.",
        )
    ctx = SyncContext(
        project=project_view(project, rt.pm),
        realm_id=company.realm_id,
        session=session,
        now=utcnow,
        run_id=run.id,
        # The plugin sends `request.idempotency_key` as the requestid of its writes.
        client=client_for(rt, company.realm_id),
    )
    request = PushRequest(
        outbox_id=entry.id,
        entity=entry.entity,
        local_kind=entry.local_kind,
        local_id=entry.local_id,
        operation=entry.operation,  # type: ignore[arg-type]
        idempotency_key=entry.idempotency_key,
    )
    result = call_one(rt.pm, owner, "push_record", ctx=ctx, request=request)
    if result is None:
        raise NeedsAdmin(f"The {owner} plugin does not send {entry.entity} records.")
    return result


def _remember_mapping(session: Session, entry: OutboxEntry, qbo_id: str, token: str | None) -> None:
    company = session.get(Company, entry.company_id)
    assert company is not None
    assert company.realm_id
    mapping = session.scalar(
        select(RemoteMapping).filter_by(
            realm_id=company.realm_id, local_kind=entry.local_kind, local_id=entry.local_id
        )
    )
    if mapping is None:
        mapping = RemoteMapping(
            realm_id=company.realm_id,
            local_kind=entry.local_kind,
            local_id=entry.local_id,
            entity=entry.entity,
            qbo_id=qbo_id,
        )
        session.add(mapping)
    mapping.qbo_id = qbo_id
    mapping.sync_token = token


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


def sweep_outbox() -> dict[str, int]:
    """Re-enqueue every push Redis may have lost: pending, unknown, or with an expired lease.

    Safe to run at any time: job ids are deterministic, so a push still queued is not enqueued
    twice, and a delivered row is skipped by the job itself.
    """
    rt = runtime_mod.current()
    now = utcnow()
    with rt.sessions() as session:
        rows = session.scalars(
            select(OutboxEntry)
            .where(
                (OutboxEntry.state.in_([OutboxState.PENDING, OutboxState.UNKNOWN]))
                | ((OutboxEntry.state == OutboxState.IN_FLIGHT) & (OutboxEntry.lease_until < now))
            )
            .order_by(OutboxEntry.id)
        ).all()
        enqueued = _enqueue_all(session, rt, rows, trigger="sweeper")
    return {"candidates": len(rows), "enqueued": enqueued}


def enqueue_push(rt: runtime_mod.Runtime, entry: OutboxEntry, run: SyncRun) -> Any:
    """Put a committed outbox row on the push queue (None when a job for it is still live).

    One job id per row (`push-<id>`), so the sweeper and RQ's own retries can never put two
    live jobs for one row on the queue; a finished or failed job of an earlier attempt is
    removed first so the row can go again.
    """
    job_id = f"push-{entry.id}"
    try:
        previous = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    except NoSuchJobError:
        previous = None
    if previous is not None:
        if previous.get_status(refresh=False) not in FINISHED_JOB_STATES:
            return None
        previous.delete()
    return queues.enqueue(
        rt.redis,
        queues.PUSH,
        push_outbox,
        job_id=job_id,
        kwargs={"outbox_id": entry.id, "run_id": run.id},
        meta={"project_id": entry.project_id, "kind": "push", "run_id": run.id},
    )


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
    enqueued = 0
    for entry in rows:
        run = SyncRun(
            company_id=entry.company_id, project_id=entry.project_id, kind="push", trigger=trigger
        )
        session.add(run)
        session.commit()
        try:
            job = enqueue_push(rt, entry, run)
        except Exception:
            # Redis is away: the row stays pending for the sweeper; drop the run we named.
            session.delete(run)
            session.commit()
            raise
        if job is not None:
            enqueued += 1
        else:
            session.delete(run)
            session.commit()
    return enqueued
