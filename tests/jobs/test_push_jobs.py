"""Push jobs on real RQ queues over real Redis, delivering real bills to the sandbox."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.utils import import_attribute
from sqlalchemy import select

from core.db import utcnow
from core.jobs import push_jobs
from core.jobs import queues
from core.models import Company
from core.models import ConnectionStatus
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import RemoteMapping
from core.models import RunState
from core.models import SyncRun
from core.push import leases
from core.push import queueing
from core.push import records
from core.push.records import LineInput

D = Decimal


def _bill(db, runtime, books, project_factory, *, connect_vendor=True):
    """A committed bill whose push is recorded (not queued); its outbox row and a run."""
    project = project_factory(
        {"push_bills": True, "default_billing_cost_code": books.framing.id},
        customer_id=books.customer_id,
    )
    if not connect_vendor:
        books.vendor.qbo_vendor_id = None
    bill, entries = records.create_bill(
        db,
        runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[LineInput(D("410.00"), books.concrete.id)],
    )
    run = SyncRun(company_id=project.company_id, project_id=project.id, kind="push")
    db.add(run)
    db.commit()
    return entries[0], run


def _qbo_bills(books):
    return books.client.query("SELECT * FROM Bill").get("Bill", [])


def _work(runtime):
    worker = SimpleWorker(
        [queues.queue(n, runtime.redis) for n in queues.ALL],
        connection=runtime.redis,
        serializer=JSONSerializer,
    )
    worker.work(burst=True)


def test_push_job_delivers_the_row_and_keeps_the_qbo_id_in_remote_mapping(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    job = queueing.enqueue_push(qbo_runtime, entry, run)
    assert json.loads(json.dumps(job.kwargs)) == {"outbox_id": entry.id, "run_id": run.id}
    _work(qbo_runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.DONE
    stored_run = committed_db.get(SyncRun, run.id)
    assert stored_run.state == RunState.SUCCEEDED
    assert stored_run.job_id == job.id
    mapping = committed_db.scalars(select(RemoteMapping)).one()
    assert [b["Id"] for b in _qbo_bills(books)] == [mapping.qbo_id]
    assert mapping.sync_token == "0"


def test_job_arguments_are_ids_only_in_json(committed_db, qbo_runtime, books, project_factory):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    job = queueing.enqueue_push(qbo_runtime, entry, run)
    raw = qbo_runtime.redis.hget(f"rq:job:{job.id}", "data")
    stored = Job.fetch(job.id, connection=qbo_runtime.redis, serializer=JSONSerializer)
    assert stored.kwargs == {"outbox_id": entry.id, "run_id": run.id}
    assert b"token" not in raw.lower()


def test_same_outbox_row_is_not_enqueued_twice(committed_db, qbo_runtime, books, project_factory):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    assert queueing.enqueue_push(qbo_runtime, entry, run) is not None
    assert queueing.enqueue_push(qbo_runtime, entry, run) is None


def test_a_queued_job_a_killed_worker_took_off_its_queue_is_queued_again(
    committed_db, qbo_runtime, books, project_factory
):
    # A worker pops the job off its queue and is SIGKILLed before marking it started: the job
    # still reads "queued" but no queue lists it, so nothing would ever run it.
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    job = queueing.enqueue_push(qbo_runtime, entry, run)
    key = queues.queue(job.origin, qbo_runtime.redis).key
    assert qbo_runtime.redis.lrem(key, 0, job.id) == 1
    again = queueing.enqueue_push(qbo_runtime, entry, run)
    assert again is not None
    assert qbo_runtime.redis.lpos(key, again.id) is not None


def test_needs_admin_is_written_on_the_run_and_not_retried(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory, connect_vendor=False)
    queueing.enqueue_push(qbo_runtime, entry, run)
    _work(qbo_runtime)
    committed_db.expire_all()
    stored_run = committed_db.get(SyncRun, run.id)
    assert stored_run.state == RunState.NEEDS_ADMIN
    assert stored_run.message == (
        "The vendor Hillside Lumber Supply is not connected to a QuickBooks vendor."
    )
    assert "Open Vendors" in stored_run.fix
    stored = committed_db.get(OutboxEntry, entry.id)
    assert stored.state == OutboxState.NEEDS_ADMIN
    assert stored.fix == stored_run.fix
    assert queues.queue(queues.PUSH, qbo_runtime.redis).failed_job_registry.count == 0
    assert _qbo_bills(books) == []


def test_answer_lost_after_qbo_committed_is_unknown_then_found_by_its_marker(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
    sandbox_control,
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    sandbox_control.faults(drop_connection=True, count=50, phase="after", paths=["bill"])
    queueing.enqueue_push(qbo_runtime, entry, run)
    _work(qbo_runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.UNKNOWN
    sandbox_control.clear_faults()
    push_jobs.sweep_outbox()
    # RQ's own retry is scheduled; run it now instead of waiting for its interval.
    push = queues.queue(queues.PUSH, qbo_runtime.redis)
    for job_id in push.scheduled_job_registry.get_job_ids():
        push.scheduled_job_registry.requeue(job_id)
    _work(qbo_runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.DONE
    assert len(_qbo_bills(books)) == 1


def test_sweeper_re_enqueues_pushes_lost_with_a_flushed_redis(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    queueing.enqueue_push(qbo_runtime, entry, run)
    qbo_runtime.redis.flushdb()
    assert push_jobs.sweep_outbox() == {"candidates": 1, "enqueued": 1}
    assert push_jobs.sweep_outbox() == {"candidates": 1, "enqueued": 0}
    _work(qbo_runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.DONE
    assert len(_qbo_bills(books)) == 1


def test_the_run_of_a_push_redis_lost_is_closed_when_one_sweep_sends_the_row_again(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
):
    entry, _run = _bill(committed_db, qbo_runtime, books, project_factory)
    assert queueing.enqueue_recorded(qbo_runtime, [entry]) == 1
    committed_db.expire_all()
    lost = committed_db.get(OutboxEntry, entry.id).run_id
    qbo_runtime.redis.flushdb()
    assert push_jobs.sweep_outbox()["enqueued"] == 1
    committed_db.expire_all()
    row = committed_db.get(OutboxEntry, entry.id)
    assert row.run_id != lost
    old = committed_db.get(SyncRun, lost)
    assert old.state == RunState.SKIPPED
    assert f"run {row.run_id} sends this change" in old.message
    _work(qbo_runtime)
    committed_db.expire_all()
    assert committed_db.get(SyncRun, row.run_id).state == RunState.SUCCEEDED
    assert len(_qbo_bills(books)) == 1


def test_push_job_ids_carry_the_install_id(committed_db, qbo_runtime, books, project_factory):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    job = queueing.enqueue_push(qbo_runtime, entry, run)
    assert job.id == f"push-{qbo_runtime.install_id}-{entry.id}"


def test_delivered_row_is_skipped_not_succeeded_when_its_job_runs_again(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    queueing.enqueue_push(qbo_runtime, entry, run)
    _work(qbo_runtime)
    again = SyncRun(company_id=entry.company_id, project_id=entry.project_id, kind="push")
    committed_db.add(again)
    committed_db.commit()
    queues.enqueue(
        qbo_runtime.redis,
        queues.PUSH,
        push_jobs.push_outbox,
        job_id="push-again",
        kwargs={"outbox_id": entry.id, "run_id": again.id},
    )
    _work(qbo_runtime)
    committed_db.expire_all()
    assert len(_qbo_bills(books)) == 1
    assert committed_db.get(SyncRun, again.id).state == RunState.SKIPPED
    assert committed_db.get(SyncRun, again.id).message == "Already delivered."


def test_row_held_by_a_live_job_is_skipped_not_recorded_as_succeeded(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    # Another job claimed it a moment ago and its heartbeat keeps the lease valid.
    entry.state = OutboxState.IN_FLIGHT
    entry.claimed_by = "push-elsewhere:abc"
    entry.lease_until = utcnow() + leases.LEASE
    committed_db.commit()
    queueing.enqueue_push(qbo_runtime, entry, run)
    _work(qbo_runtime)
    committed_db.expire_all()
    assert _qbo_bills(books) == []
    stored_run = committed_db.get(SyncRun, run.id)
    assert stored_run.state == RunState.SKIPPED
    assert stored_run.message.startswith("Another job is sending this change")


def test_row_of_a_dead_job_is_reclaimed_by_the_sweeper_once_its_lease_runs_out(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    # A worker claimed it and died: no heartbeat renewed the lease.
    entry.state = OutboxState.IN_FLIGHT
    entry.attempts = 1
    entry.claimed_by = f"{queueing.push_job_id(qbo_runtime, entry.id)}:dead"
    entry.lease_until = utcnow() - dt.timedelta(seconds=1)
    committed_db.commit()
    assert push_jobs.sweep_outbox()["enqueued"] == 1
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.UNKNOWN
    _work(qbo_runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.DONE
    assert len(_qbo_bills(books)) == 1


def test_push_for_a_disconnected_company_waits_and_resumes_on_reconnect(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    company = entry.company_id
    committed_db.execute(
        Company.__table__.update().values(connection_status=ConnectionStatus.RECONNECT_NEEDED)
    )
    committed_db.commit()
    queueing.enqueue_push(qbo_runtime, entry, run)
    _work(qbo_runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.BLOCKED
    assert "not connected to QuickBooks" in committed_db.get(SyncRun, run.id).message
    assert push_jobs.sweep_outbox()["candidates"] == 0  # the sweeper leaves it for the reconnect

    committed_db.execute(
        Company.__table__.update().values(connection_status=ConnectionStatus.CONNECTED)
    )
    committed_db.commit()
    assert queueing.resume_company(qbo_runtime, company) == 1
    _work(qbo_runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.DONE
    assert len(_qbo_bills(books)) == 1


def test_last_failed_attempt_closes_the_run_with_words_for_support(
    committed_db,
    qbo_runtime,
    books,
    project_factory,
    sandbox_control,
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    sandbox_control.faults(drop_connection=True, count=5, paths=["bill"])
    queues.enqueue(
        qbo_runtime.redis,
        queues.PUSH,
        push_jobs.push_outbox,
        job_id=queueing.push_job_id(qbo_runtime, entry.id),
        kwargs={"outbox_id": entry.id, "run_id": run.id},
        retry=None,
    )
    _work(qbo_runtime)
    committed_db.expire_all()
    stored = committed_db.get(SyncRun, run.id)
    assert stored.state == RunState.FAILED
    assert stored.message.startswith("Gave up after 1 attempt:")
    assert "Support can retry" in stored.fix
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.UNKNOWN


def test_unknown_queue_name_is_refused(redis_conn):
    with pytest.raises(ValueError, match="unknown queue"):
        queues.queue("default", redis_conn)


def test_sweep_is_queued_once_however_many_workers_ask(runtime, redis_conn, committed_db):
    from core.jobs.worker import schedule_sweep

    assert schedule_sweep(runtime) is True
    assert schedule_sweep(runtime) is False
    _work(runtime)
    assert schedule_sweep(runtime) is True  # the finished sweep left no result behind


def test_workers_sweep_periodically(runtime, redis_conn):
    import threading

    from core.jobs.worker import public_sweep_job_id
    from core.jobs.worker import sweep_job_id
    from core.jobs.worker import sweep_periodically

    stop = threading.Event()
    thread = threading.Thread(target=sweep_periodically, args=(runtime, 0.05, stop))
    thread.start()
    try:
        maintenance = queues.queue(queues.MAINTENANCE, runtime.redis)
        # The outbox sweep, and the webhook-inbox / pending-revoke sweep queued right after it.
        wanted = [sweep_job_id(runtime), public_sweep_job_id(runtime)]
        for _ in range(250):
            if maintenance.get_job_ids() == wanted:
                break
            stop.wait(0.02)
        assert maintenance.get_job_ids() == wanted
    finally:
        stop.set()
        thread.join(5)


def test_new_pushes_are_queued_under_the_job_entry_point(
    committed_db, qbo_runtime, books, project_factory
):
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    job = queueing.enqueue_push(qbo_runtime, entry, run)
    assert job.func_name == "core.jobs.push_jobs.push_outbox"
    assert import_attribute(job.func_name) is push_jobs.push_outbox


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("core.jobs.tasks.push_outbox", "core.jobs.push_jobs.push_outbox"),
        ("core.jobs.tasks.sweep", "core.jobs.push_jobs.sweep"),
        ("core.jobs.tasks.sweep_outbox", "core.jobs.push_jobs.sweep_outbox"),
    ],
)
def test_job_names_queued_before_the_move_resolve_to_the_same_functions(old, new):
    assert import_attribute(old) is import_attribute(new)


def test_a_push_queued_under_its_old_name_is_still_delivered_once(
    committed_db, qbo_runtime, books, project_factory
):
    # What a worker of the new release finds in Redis after an upgrade.
    entry, run = _bill(committed_db, qbo_runtime, books, project_factory)
    queues.enqueue(
        qbo_runtime.redis,
        queues.PUSH,
        "core.jobs.tasks.push_outbox",
        job_id=queueing.push_job_id(qbo_runtime, entry.id),
        kwargs={"outbox_id": entry.id, "run_id": run.id},
        retry=None,
    )
    _work(qbo_runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.DONE
    assert committed_db.get(SyncRun, run.id).state == RunState.SUCCEEDED
    assert len(_qbo_bills(books)) == 1
