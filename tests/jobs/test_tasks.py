"""Jobs run on real RQ queues over real Redis through a burst SimpleWorker."""

from __future__ import annotations

import json

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer

from core import hookimpl
from core.contracts import PluginInfo
from core.contracts import PushResult
from core.errors import NeedsAdmin
from core.jobs import queues
from core.jobs import tasks
from core.models import Company
from core.models import ConnectionStatus
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import RemoteMapping
from core.models import RunState
from core.models import SyncRun
from tests.factories import make_company
from tests.factories import make_project


class BillPusher:
    """A throwaway plugin that 'pushes' bills by handing out QBO ids."""

    def __init__(self, fail_with=None):
        self.requests = []
        self.fail_with = fail_with

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="test_pusher", label="Test pusher", owns=("TestBill",))

    @hookimpl
    def push_record(self, ctx, request):
        if self.fail_with:
            raise self.fail_with
        self.requests.append(request)
        return PushResult(qbo_id=str(1000 + request.local_id), sync_token="0")


@pytest.fixture
def pusher_failing_with(runtime):
    """Register a BillPusher (failing with the given error, if any) for one test."""
    registered = []

    def register(error=None):
        plugin = BillPusher(fail_with=error)
        runtime.pm.register(plugin, name="test_pusher")
        registered.append(plugin)
        return plugin

    yield register
    for plugin in registered:
        runtime.pm.unregister(plugin)


@pytest.fixture
def pusher(pusher_failing_with):
    return pusher_failing_with(None)


def _outbox(db, *, local_id=7, key="k-0001"):
    company = make_company(
        db, realm_id="9341452188453921", connection_status=ConnectionStatus.CONNECTED
    )
    project = make_project(db, company, linked=True)
    entry = OutboxEntry(
        company_id=company.id,
        project_id=project.id,
        entity="TestBill",
        local_kind="bill",
        local_id=local_id,
        operation="create",
        idempotency_key=key,
    )
    run = SyncRun(company_id=company.id, project_id=project.id, kind="push")
    db.add_all([entry, run])
    db.commit()
    return entry, run


def _push_once(db, runtime):
    """A fresh outbox row pushed through the queue by a burst worker; its entry and run."""
    entry, run = _outbox(db)
    tasks.enqueue_push(runtime, entry, run)
    _work(runtime)
    db.expire_all()
    return entry, run


def _work(runtime):
    worker = SimpleWorker(
        [queues.queue(n, runtime.redis) for n in queues.ALL],
        connection=runtime.redis,
        serializer=JSONSerializer,
    )
    worker.work(burst=True)


def test_push_record_of_the_owning_plugin_delivers_the_outbox_row(
    committed_db, runtime, redis_conn, pusher
):
    entry, run = _outbox(committed_db)
    job = tasks.enqueue_push(runtime, entry, run)
    assert json.loads(json.dumps(job.kwargs)) == {"outbox_id": entry.id, "run_id": run.id}
    _work(runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.DONE
    assert committed_db.get(OutboxEntry, entry.id).qbo_id == "1007"
    stored_run = committed_db.get(SyncRun, run.id)
    assert stored_run.state == RunState.SUCCEEDED
    assert stored_run.job_id == job.id
    assert stored_run.started_at
    assert stored_run.finished_at
    assert committed_db.query(RemoteMapping).one().qbo_id == "1007"
    assert [r.idempotency_key for r in pusher.requests] == ["k-0001"]


def test_job_arguments_are_ids_only_in_json(committed_db, runtime, redis_conn, pusher):
    entry, run = _outbox(committed_db)
    job = tasks.enqueue_push(runtime, entry, run)
    raw = redis_conn.hget(f"rq:job:{job.id}", "data")
    stored = Job.fetch(job.id, connection=redis_conn, serializer=JSONSerializer)
    assert stored.kwargs == {"outbox_id": entry.id, "run_id": run.id}
    assert b"token" not in raw.lower()


def test_same_outbox_row_is_not_enqueued_twice(committed_db, runtime, redis_conn, pusher):
    entry, run = _outbox(committed_db)
    assert tasks.enqueue_push(runtime, entry, run) is not None
    assert tasks.enqueue_push(runtime, entry, run) is None


def test_needs_admin_is_written_on_the_run_and_not_retried(
    committed_db, runtime, redis_conn, pusher_failing_with
):
    pusher_failing_with(
        NeedsAdmin(
            "The vendor is not connected to QuickBooks.",
            fix="Connect the vendor on the Vendors page.",
        )
    )
    entry, run = _push_once(committed_db, runtime)
    stored_run = committed_db.get(SyncRun, run.id)
    assert stored_run.state == RunState.NEEDS_ADMIN
    assert stored_run.message == "The vendor is not connected to QuickBooks."
    assert stored_run.fix == "Connect the vendor on the Vendors page."
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.NEEDS_ADMIN
    assert queues.queue(queues.PUSH, redis_conn).failed_job_registry.count == 0


def test_entity_no_enabled_plugin_owns_needs_an_admin(committed_db, runtime, redis_conn):
    entry, run = _push_once(committed_db, runtime)
    stored_run = committed_db.get(SyncRun, run.id)
    assert stored_run.state == RunState.NEEDS_ADMIN
    assert "No enabled plugin sends TestBill" in stored_run.message


def test_unexpected_error_leaves_the_push_unknown_for_a_retry(
    committed_db, runtime, redis_conn, pusher_failing_with
):
    pusher_failing_with(ConnectionResetError("connection dropped after sending"))
    entry, run = _push_once(committed_db, runtime)
    stored = committed_db.get(OutboxEntry, entry.id)
    assert stored.state == OutboxState.UNKNOWN
    assert "ConnectionResetError" in stored.last_error
    # RQ keeps it for a retry (Retry intervals, run by the worker's scheduler).
    job_ids = queues.queue(queues.PUSH, redis_conn).scheduled_job_registry.get_job_ids()
    assert len(job_ids) == 1


def test_sweeper_re_enqueues_pushes_lost_with_a_flushed_redis(
    committed_db, runtime, redis_conn, pusher
):
    entry, run = _outbox(committed_db)
    tasks.enqueue_push(runtime, entry, run)
    redis_conn.flushdb()
    assert tasks.sweep_outbox() == {"candidates": 1, "enqueued": 1}
    assert tasks.sweep_outbox() == {"candidates": 1, "enqueued": 0}
    _work(runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.DONE
    assert len(pusher.requests) == 1


def test_delivered_row_is_not_pushed_again(committed_db, runtime, redis_conn, pusher):
    entry, run = _push_once(committed_db, runtime)
    again = SyncRun(company_id=entry.company_id, project_id=entry.project_id, kind="push")
    committed_db.add(again)
    committed_db.commit()
    queues.enqueue(
        runtime.redis,
        queues.PUSH,
        tasks.push_outbox,
        job_id="push-again",
        kwargs={"outbox_id": entry.id, "run_id": again.id},
    )
    _work(runtime)
    assert len(pusher.requests) == 1


def test_unknown_queue_name_is_refused(redis_conn):
    with pytest.raises(ValueError, match="unknown queue"):
        queues.queue("default", redis_conn)


def test_row_held_by_another_worker_is_not_pushed_twice(committed_db, runtime, redis_conn, pusher):
    entry, run = _outbox(committed_db)
    # Another worker claimed it a moment ago and is still sending it (its lease is valid).
    entry.state = OutboxState.IN_FLIGHT
    entry.lease_until = tasks.utcnow() + tasks.LEASE
    committed_db.commit()
    tasks.enqueue_push(runtime, entry, run)
    _work(runtime)
    committed_db.expire_all()
    assert pusher.requests == []
    assert committed_db.get(SyncRun, run.id).message == "Another worker is sending this change."
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.IN_FLIGHT


def test_sweeper_does_not_add_a_second_job_while_a_retry_is_scheduled(
    committed_db, runtime, redis_conn, pusher_failing_with
):
    pusher_failing_with(ConnectionResetError("connection dropped after sending"))
    entry, run = _outbox(committed_db)
    tasks.enqueue_push(runtime, entry, run)
    _work(runtime)
    assert tasks.sweep_outbox() == {"candidates": 1, "enqueued": 0}
    push = queues.queue(queues.PUSH, redis_conn)
    assert push.count + push.scheduled_job_registry.count == 1


def test_push_for_a_disconnected_company_waits_and_resumes_on_reconnect(
    committed_db, runtime, redis_conn, pusher
):
    entry, run = _outbox(committed_db)
    company = committed_db.get(OutboxEntry, entry.id).company_id
    committed_db.execute(
        Company.__table__.update().values(connection_status=ConnectionStatus.RECONNECT_NEEDED)
    )
    committed_db.commit()
    tasks.enqueue_push(runtime, entry, run)
    _work(runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.BLOCKED
    assert "not connected to QuickBooks" in committed_db.get(SyncRun, run.id).message
    assert tasks.sweep_outbox()["candidates"] == 0  # the sweeper leaves it for the reconnect

    committed_db.execute(
        Company.__table__.update().values(connection_status=ConnectionStatus.CONNECTED)
    )
    committed_db.commit()
    assert tasks.resume_company(runtime, company) == 1
    _work(runtime)
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.DONE
    assert len(pusher.requests) == 1


def test_last_failed_attempt_closes_the_run_with_words_for_support(
    committed_db, runtime, redis_conn, pusher_failing_with
):
    pusher_failing_with(ConnectionResetError("connection dropped"))
    entry, run = _outbox(committed_db)
    queues.enqueue(
        runtime.redis,
        queues.PUSH,
        tasks.push_outbox,
        job_id=f"push-{entry.id}",
        kwargs={"outbox_id": entry.id, "run_id": run.id},
        retry=None,
    )
    _work(runtime)
    committed_db.expire_all()
    stored = committed_db.get(SyncRun, run.id)
    assert stored.state == RunState.FAILED
    assert stored.message.startswith("Gave up after 1 attempt: ConnectionResetError")
    assert "Support can retry" in stored.fix
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.UNKNOWN


def test_sweep_is_queued_once_however_many_workers_ask(runtime, redis_conn, committed_db):
    from core.jobs.worker import schedule_sweep

    assert schedule_sweep(runtime) is True
    assert schedule_sweep(runtime) is False
    _work(runtime)
    assert schedule_sweep(runtime) is True  # the finished sweep left no result behind


def test_workers_sweep_periodically(runtime, redis_conn):
    import threading

    from core.jobs.worker import SWEEP_JOB_ID
    from core.jobs.worker import sweep_periodically

    stop = threading.Event()
    thread = threading.Thread(target=sweep_periodically, args=(runtime, 0.05, stop))
    thread.start()
    try:
        maintenance = queues.queue(queues.MAINTENANCE, redis_conn)
        for _ in range(100):
            if SWEEP_JOB_ID in maintenance.get_job_ids():
                break
            stop.wait(0.02)
        assert maintenance.get_job_ids() == [SWEEP_JOB_ID]
    finally:
        stop.set()
        thread.join(5)
