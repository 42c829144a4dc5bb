"""One push run, start to finish: claim a row, deliver it (alone or in a batch), settle.

The push job (`core.jobs.push_jobs.push_outbox`) only builds the runtime and calls
`deliver_row`; everything else is here and in the modules it calls, in the order they run:

1. claim the row under a short lease a heartbeat renews (`core.push.leases`);
2. for a fresh create, claim up to 29 more waiting creates for one QBO batch;
3. prepare each row and map it through the plugin declaring its push kind (`core.push.prepare`,
   `core.push.deliver`);
4. send: alone (`core.push.deliver`) or as one batch (`core.push.batch`);
5. settle each row and its run, then queue what waited behind it (`core.push.settle`);
6. a lead of batched creates then drains further batches for a while (`drain`).

A job that finds nothing to do records its run as skipped, never as succeeded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import QboPayload
from core.db import utcnow
from core.models import Company
from core.models import ConnectionStatus
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import RunState
from core.models import SyncRun
from core.push import leases
from core.push.batch import BATCHABLE
from core.push.batch import batch_room
from core.push.batch import send_batch
from core.push.deliver import Pusher
from core.push.deliver import deliver_one
from core.push.outcome import Outcome
from core.push.outcome import guarded
from core.push.outcome import outcome_of
from core.push.prepare import mapping_of
from core.push.queueing import clear_lead
from core.push.queueing import enqueue_all
from core.push.settle import Execution
from core.push.settle import finish_run
from core.push.settle import mark_unknown
from core.push.settle import retry_or_give_up
from core.push.settle import settle
from core.push.settle import start_run
from core.qbo import client_for
from core.qbo.errors import NotConnected
from core.runtime import Runtime

#: How long one job keeps taking further batches of waiting creates.
DRAIN_FOR = dt.timedelta(seconds=20)


def deliver_row(rt: Runtime, outbox_id: int, run_id: int, execution: Execution) -> dict[str, Any]:
    """Deliver one outbox row (and, for a fresh create, up to 29 more in one QBO batch).

    The row is claimed with one conditional UPDATE under a short lease that a heartbeat renews
    while the job runs, so two jobs can never both send it and a killed worker's row is taken
    back within seconds (`core.push.leases`).

    Args:
        rt: The worker's runtime.
        outbox_id: The `OutboxEntry` to deliver.
        run_id: The `SyncRun` recording this delivery.
        execution: The job execution doing it.

    Returns:
        A JSON-safe summary (RQ keeps it as the job result).
    """
    token = leases.new_token(execution.job_id)
    with rt.sessions() as session:
        run = session.get(SyncRun, run_id)
        entry = session.get(OutboxEntry, outbox_id)
        if run is None or entry is None:
            return {"skipped": "outbox row or run no longer exists"}
        if entry.operation == "create" and entry.entity in BATCHABLE:
            # Creates recorded from now on need a new lead job; those before ride this batch
            # (or a batch already carried this row: its lead flag is freed all the same).
            clear_lead(rt, entry)
        start_run(session, run, execution)
        if not leases.claim(session, outbox_id, token):
            return _skip(session, run, outbox_id)
        with leases.Heartbeat(rt.engine, token):
            result = _deliver_claimed(session, rt, run, outbox_id, token, execution)
        lead = session.get(OutboxEntry, outbox_id)
        if lead is not None and lead.operation == "create" and lead.entity in BATCHABLE:
            result["drained"] = drain(session, rt, lead.company_id, lead.entity, execution)
        return result


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
    finish_run(session, run, RunState.SKIPPED, words, counts={"pushed": 0})
    return {"skipped": words}


def _deliver_claimed(
    session: Session,
    rt: Runtime,
    run: SyncRun,
    outbox_id: int,
    token: str,
    execution: Execution,
) -> dict[str, Any]:
    """Deliver the claimed row `outbox_id` (with the fresh creates it can take), and settle."""
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
        settle(session, rt, [(lead, Outcome.of_error(exc, OutboxState.BLOCKED))])
        return {"blocked": exc.message}
    pusher = Pusher(rt, session, company, client_for(rt, company.realm_id))
    rows = [lead]
    fresh = lead.operation == "create" and lead.entity in BATCHABLE and lead.attempts == 1
    if fresh and batch_room(rt, company.realm_id):
        rows += leases.claim_fresh_creates(session, lead, token)
    settled: set[int] = set()
    try:
        batch: list[tuple[OutboxEntry, QboPayload]] = []
        for row in rows:
            outcome = deliver_one(pusher, row, batch if len(rows) > 1 else None)
            if outcome is not None:
                settle(session, rt, [(row, outcome)])
                settled.add(row.id)
        if len(batch) == 1:
            row, payload = batch[0]
            single = guarded(lambda: pusher.create(row, payload))  # noqa: B023
            assert single is not None
            settle(session, rt, [(row, single)])
            settled.add(row.id)
        elif batch:
            answers = send_batch(pusher, batch)
            results = []
            for row, _payload in batch:
                answer = answers[row.id]
                results.append((row, answer if isinstance(answer, Outcome) else outcome_of(answer)))
            settle(session, rt, results)
            settled.update(row.id for row, _p in batch)
    except BaseException as exc:
        session.rollback()
        # QBO may or may not have these now: "unknown", looked up by marker before any resend.
        mark_unknown(session, rows, settled, token, exc)
        retry_or_give_up(session, run, lead.id, exc, execution)
        raise
    session.expire_all()
    final = session.get(OutboxEntry, outbox_id)
    assert final is not None
    mapping = mapping_of(session, final.local_kind, final.local_id)
    if final.state == OutboxState.DONE:
        return {"qbo_id": mapping.qbo_id if mapping else None, "batched": len(rows)}
    return {"state": final.state.value, "error": final.last_error}


def drain(session: Session, rt: Runtime, company_id: int, entity: str, execution: Execution) -> int:
    """Send further batches of never-tried creates that wait with no job of their own.

    Recording many creates at once queues one lead job (`core.push.queueing.needs_job`); the
    lead takes 29 more into its batch and then, for a while, the next 30, each batch with its
    own run. When time is up with creates still waiting, a new lead job takes over.
    """
    sent = 0
    until = utcnow() + DRAIN_FOR
    while utcnow() < until:
        next_id = session.scalar(
            _waiting_creates(company_id, entity).with_only_columns(OutboxEntry.id)
        )
        if next_id is None:
            break
        run = SyncRun(company_id=company_id, kind="push", trigger="batch")
        session.add(run)
        session.commit()
        lead_token = leases.new_token(execution.job_id)
        if not leases.claim(session, next_id, lead_token):
            session.delete(run)
            session.commit()
            continue
        start_run(session, run, execution)
        with leases.Heartbeat(rt.engine, lead_token):
            _deliver_claimed(session, rt, run, next_id, lead_token, execution)
        sent += 1
    else:
        # Time is up with creates still waiting: hand them to a new lead job.
        waiting = session.scalars(_waiting_creates(company_id, entity)).all()
        if waiting:
            enqueue_all(session, rt, waiting, trigger="batch")
    return sent


def _waiting_creates(company_id: int, entity: str) -> Any:
    """The oldest never-tried create of a company and entity."""
    return (
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
    )
