"""Job functions. Each takes ids only, opens its own session and records its `SyncRun`.

RQ retries any exception, so a job catches `NeedsAdmin` and `Rejected` itself, writes the reason
on the run and ends; only `TryLater` and unexpected errors escape to RQ.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rq import get_current_job
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import runtime as runtime_mod
from core.contracts import PushRequest
from core.contracts import SyncContext
from core.db import utcnow
from core.errors import CostbridgeError
from core.errors import NeedsAdmin
from core.errors import Rejected
from core.jobs import queues
from core.models import Company
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import RemoteMapping
from core.models import RunState
from core.models import SyncRun
from core.plugins import call_one
from core.project_settings import project_view
from core.qbo import client_for

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=10)


def push_outbox(outbox_id: int, run_id: int) -> dict[str, Any]:
    """Deliver one outbox row through the plugin that owns its entity.

    Args:
        outbox_id: The `OutboxEntry` to deliver.
        run_id: The `SyncRun` recording this delivery.

    Returns:
        A JSON-safe summary (RQ keeps it as the job result).
    """
    rt = runtime_mod.current()
    with rt.sessions() as session:
        entry = session.get(OutboxEntry, outbox_id)
        run = session.get(SyncRun, run_id)
        if entry is None or run is None:
            return {"skipped": "outbox row or run no longer exists"}
        if entry.state == OutboxState.DONE:
            _finish(session, run, RunState.SUCCEEDED, "Already delivered.", counts={"pushed": 0})
            return {"qbo_id": entry.qbo_id, "already_done": True}
        _start(session, run)
        entry.state = OutboxState.IN_FLIGHT
        entry.attempts += 1
        entry.lease_until = utcnow() + LEASE
        session.commit()
        try:
            result = _push(session, rt, entry, run)
        except (NeedsAdmin, Rejected) as exc:
            session.rollback()
            entry.state = (
                OutboxState.NEEDS_ADMIN if isinstance(exc, NeedsAdmin) else OutboxState.FAILED
            )
            entry.last_error = str(exc)
            entry.lease_until = None
            _finish(
                session,
                run,
                RunState.NEEDS_ADMIN if isinstance(exc, NeedsAdmin) else RunState.FAILED,
                exc.message,
                fix=exc.fix,
                detail=exc.detail,
            )
            return {"error": exc.message}
        except BaseException as exc:
            session.rollback()
            # QBO may or may not have the record now: "unknown", reconciled on the next attempt
            # through the same requestid, never "failed".
            entry.state = OutboxState.UNKNOWN
            entry.last_error = _describe(exc)
            run.state = RunState.QUEUED
            run.message = "Will retry: " + _describe(exc)
            session.commit()
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


def _push(session: Session, rt: runtime_mod.Runtime, entry: OutboxEntry, run: SyncRun) -> Any:
    company = session.get(Company, entry.company_id)
    project = session.get(Project, entry.project_id) if entry.project_id else None
    if company is None or not company.realm_id:
        raise NeedsAdmin(
            "The company is not connected to QuickBooks.",
            fix="Open Company settings → Integrations and connect QuickBooks.",
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
    enqueued = 0
    with rt.sessions() as session:
        rows = session.scalars(
            select(OutboxEntry)
            .where(
                (OutboxEntry.state.in_([OutboxState.PENDING, OutboxState.UNKNOWN]))
                | ((OutboxEntry.state == OutboxState.IN_FLIGHT) & (OutboxEntry.lease_until < now))
            )
            .order_by(OutboxEntry.id)
        ).all()
        for entry in rows:
            run = SyncRun(
                company_id=entry.company_id,
                project_id=entry.project_id,
                kind="push",
                trigger="sweeper",
            )
            session.add(run)
            session.commit()
            if enqueue_push(rt, entry, run) is not None:
                enqueued += 1
            else:
                session.delete(run)
                session.commit()
    return {"candidates": len(rows), "enqueued": enqueued}


def enqueue_push(rt: runtime_mod.Runtime, entry: OutboxEntry, run: SyncRun) -> Any:
    """Put a committed outbox row on the push queue (None when it is already queued)."""
    return queues.enqueue(
        rt.redis,
        queues.PUSH,
        push_outbox,
        job_id=f"push-{entry.id}-{entry.attempts}",
        kwargs={"outbox_id": entry.id, "run_id": run.id},
        meta={"project_id": entry.project_id, "kind": "push", "run_id": run.id},
    )
