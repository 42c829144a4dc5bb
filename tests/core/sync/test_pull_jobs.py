"""Pull jobs on real RQ queues: debounced requests, and a signed webhook reaching actuals."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from core import migrate
from core import runtime as runtime_mod
from core.config import Settings
from core.db import make_engine
from core.db import utcnow
from core.jobs import board
from core.jobs import queues
from core.models import Actual
from core.models import Company
from core.models import RunState
from core.models import SyncRun
from core.plugins import PluginManager
from core.projects import create_company
from core.qbo import client_for
from core.runtime import Runtime
from core.sync import jobs as pull_jobs
from core.sync.engine import pull_company
from core.sync.jobs import pending_key
from core.sync.jobs import request_pull
from core.web.webhooks import sign
from costbridge_testing.sandbox import connect_company
from costbridge_testing.services import postgres_url_from_env
from costbridge_testing.services import private_schema_url
from costbridge_testing.services import truncate_all
from costbridge_testing.services import web_app


def _demo(qbo_runtime: Runtime, company: Company, control: Any) -> str:
    hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id
    control._post("seed", {"kind": "demo", "realm_id": hint, "size": 0.1})
    return connect_company(qbo_runtime.settings, qbo_runtime.sessions, company.id, realm_hint=hint)


def _work(rt: Runtime) -> None:
    names = (queues.WEBHOOKS, queues.PULL)
    qs = [queues.queue(n, rt.redis) for n in names]
    SimpleWorker(qs, connection=rt.redis, serializer=JSONSerializer).work(burst=True)


def test_many_pull_requests_queue_one_pull(
    qbo_runtime: Runtime, company: Company, sandbox_control: Any
) -> None:
    _demo(qbo_runtime, company, sandbox_control)
    runs = [request_pull(qbo_runtime, company.id, trigger="webhook") for _ in range(5)]
    assert runs[0] is not None
    assert runs[1:] == [None] * 4
    assert queues.queue(queues.PULL, qbo_runtime.redis).count == 1
    _work(qbo_runtime)
    with qbo_runtime.sessions() as session:
        run = session.get(SyncRun, runs[0])
        assert run is not None
        assert run.state == RunState.SUCCEEDED
        assert run.trigger == "webhook"
        assert run.counts["added"] > 0
    # Records read, in the job's meta: the console's Sync Expenses and queue view show them.
    job = Job.fetch(
        pull_jobs.pull_job_id(qbo_runtime, company.id, runs[0]), qbo_runtime.redis, JSONSerializer
    )
    assert job.meta["progress"] == run.counts["records"] > 0
    # The job cleared the flag as it started: the next change queues the next pull.
    assert qbo_runtime.redis.get(pending_key(qbo_runtime, company.id)) is None
    assert request_pull(qbo_runtime, company.id) is not None


def test_signed_webhook_for_an_edit_updates_the_actual(
    qbo_runtime: Runtime, company: Company, sandbox_control: Any, qbo_sandbox: Any
) -> None:
    realm = _demo(qbo_runtime, company, sandbox_control)
    pull_company(qbo_runtime, company.id)
    client = client_for(qbo_runtime, realm)
    bill, line = next(
        (b, x)
        for b in client.query("SELECT * FROM Bill MAXRESULTS 100")["Bill"]
        for x in b["Line"]
        if x["DetailType"] == "AccountBasedExpenseLineDetail"
    )
    line["Amount"] = Decimal("1234.56")
    body = {k: v for k, v in bill.items() if k not in ("TotalAmt", "Balance", "MetaData")}
    updated = client.update("Bill", body, request_id="webhook-edit-1")
    # Intuit's lastUpdated is the record's own update time (in UTC), never a date fixed in a test.
    changed_at = dt.datetime.fromisoformat(updated["MetaData"]["LastUpdatedTime"])
    last_updated = changed_at.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    payload = json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": realm,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Bill",
                                "id": bill["Id"],
                                "operation": "Update",
                                "lastUpdated": last_updated.replace("+00:00", "Z"),
                            }
                        ]
                    },
                }
            ]
        }
    ).encode()
    verifier = qbo_runtime.settings.qbo_webhook_verifier
    with web_app(qbo_runtime) as app:
        for _ in range(3):  # Intuit retries; many deliveries still make one pull
            resp = app.test_client().post(
                "/webhooks/qbo",
                data=payload,
                headers={
                    "Content-Type": "application/json",
                    "intuit-signature": sign(verifier, payload),
                },
            )
            assert resp.status_code == 200
    _work(qbo_runtime)
    with qbo_runtime.sessions() as session:
        amount = session.scalar(
            select(Actual.amount).where(
                Actual.qbo_entity == "Bill",
                Actual.qbo_id == bill["Id"],
                Actual.qbo_line_id == str(line["Id"]),
            )
        )
        pulls = session.scalars(
            select(SyncRun).where(SyncRun.kind == "pull", SyncRun.trigger == "webhook")
        ).all()
    assert amount == Decimal("1234.56")
    assert len(pulls) == 1
    assert pulls[0].counts["modes"] == dict.fromkeys(
        ("Bill", "JournalEntry", "Purchase", "TimeActivity", "VendorCredit"), "cdc"
    )


# -- ids that never collide, and nothing left queued forever (issue 18) -------------------------
#
# The companies below are not connected, so their pulls end at once as "needs admin": what
# matters here is that each queued run gets a job that runs, not what it pulls.


@contextmanager
def _installed(rt: Runtime) -> Iterator[Runtime]:
    """`rt` as the runtime the jobs run in this process use (a worker installs its own)."""
    runtime_mod.install(rt)
    try:
        yield rt
    finally:
        runtime_mod.install(None)


def _new_company(rt: Runtime) -> int:
    with rt.sessions() as session:
        company = create_company(session, "Ridgeline Builders")
        session.commit()
        return company.id


def _state(rt: Runtime, run_id: int) -> RunState:
    with rt.sessions() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        return run.state


def _pull_jobs(rt: Runtime) -> list[str]:
    return queues.queue(queues.PULL, rt.redis).get_job_ids()


def _lose_queued_jobs(rt: Runtime) -> None:
    """What a flushed or restarted Redis does to queued pulls (their run rows stay queued)."""
    queues.queue(queues.PULL, rt.redis).empty()


def _age(rt: Runtime, run_id: int, seconds: float = 60) -> None:
    """Make the run look queued `seconds` ago (past the grace a just-committed run has)."""
    with rt.sessions() as session:
        session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(queued_at=utcnow() - dt.timedelta(seconds=seconds))
        )
        session.commit()


def _work_all(rt: Runtime) -> None:
    qs = [queues.queue(n, rt.redis) for n in queues.ALL]
    SimpleWorker(qs, connection=rt.redis, serializer=JSONSerializer).work(burst=True)


@pytest.fixture
def other_install(settings: Settings, pm: PluginManager) -> Iterator[Runtime]:
    """A second install: its own migrated database (a schema of its own), the same Redis."""
    base = postgres_url_from_env()
    schema = f"cbt_{os.getpid()}_{uuid.uuid4().hex[:8]}_other"
    admin = make_engine(private_schema_url(base, "public"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(private_schema_url(base, schema))
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        yield Runtime(settings=settings, engine=engine, pm=pm)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_job_ids_and_the_pull_flag_carry_the_install_id(
    runtime: Runtime, redis_conn: Any, committed_db: Any
) -> None:
    company_id = _new_company(runtime)
    run_id = request_pull(runtime, company_id)
    assert run_id is not None
    install = runtime.install_id
    assert len(install) == 12
    assert _pull_jobs(runtime) == [f"pull-{install}-{company_id}-{run_id}"]
    assert pending_key(runtime, company_id) == f"costbridge:{install}:pull-pending:{company_id}"
    assert redis_conn.get(pending_key(runtime, company_id)) == str(run_id).encode()


def test_a_recreated_database_pulls_though_redis_still_holds_the_old_first_pull(
    settings: Settings, engine: Any, pm: PluginManager, redis_conn: Any, committed_db: Any
) -> None:
    truncate_all(engine)  # a new database: ids start at 1
    with _installed(Runtime(settings=settings, engine=engine, pm=pm)) as first:
        company_id = _new_company(first)
        run_id = request_pull(first, company_id)
        assert run_id is not None
        _work(first)
        assert _state(first, run_id) == RunState.NEEDS_ADMIN
    # `make demo` deletes its SQLite file and migrates a new one; RQ keeps the finished job of
    # the old database's run for 500 s.
    truncate_all(engine)
    with _installed(Runtime(settings=settings, engine=engine, pm=pm)) as second:
        assert _new_company(second) == company_id
        assert request_pull(second, company_id) == run_id
        _work(second)
        assert _state(second, run_id) == RunState.NEEDS_ADMIN


def test_a_restored_database_handing_out_a_run_id_again_gets_its_pull(
    runtime: Runtime, redis_conn: Any, committed_db: Any
) -> None:
    company_id = _new_company(runtime)
    run_id = request_pull(runtime, company_id)
    assert run_id is not None
    _work(runtime)
    # A backup from before that pull comes back: same install id, and the run id is free again.
    with runtime.engine.begin() as conn:
        conn.execute(delete(SyncRun).where(SyncRun.id == run_id))
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('sync_run', 'id'), :n, false)"),
            {"n": run_id},
        )
    assert request_pull(runtime, company_id) == run_id
    assert len(_pull_jobs(runtime)) == 1  # the old finished job gave way to the new one
    _work(runtime)
    assert _state(runtime, run_id) == RunState.NEEDS_ADMIN


def test_two_installs_on_one_redis_both_pull_their_company_1_run_1(
    settings: Settings,
    engine: Any,
    pm: PluginManager,
    other_install: Runtime,
    redis_conn: Any,
    committed_db: Any,
) -> None:
    truncate_all(engine)
    mine = Runtime(settings=settings, engine=engine, pm=pm)
    for rt in (mine, other_install):
        with _installed(rt):
            assert _new_company(rt) == 1
            assert request_pull(rt, 1) == 1
            assert len(_pull_jobs(rt)) == 1
            _work(rt)
            assert _state(rt, 1) == RunState.NEEDS_ADMIN
    assert mine.install_id != other_install.install_id


def test_one_sweep_queues_again_a_pull_whose_job_redis_lost(
    runtime: Runtime, redis_conn: Any, committed_db: Any
) -> None:
    from core.jobs.worker import schedule_sweep

    company_id = _new_company(runtime)
    run_id = request_pull(runtime, company_id)
    assert run_id is not None
    _lose_queued_jobs(runtime)
    _age(runtime, run_id)
    assert schedule_sweep(runtime)
    _work_all(runtime)  # the sweep, then the pull it queued
    assert _state(runtime, run_id) == RunState.NEEDS_ADMIN


def test_the_sweep_leaves_a_run_queued_a_moment_ago_to_its_request(
    runtime: Runtime, redis_conn: Any, committed_db: Any
) -> None:
    # Committed, its job not yet in Redis: the request that wrote it queues it a moment later.
    with runtime.sessions() as session:
        run = SyncRun(company_id=_new_company(runtime), kind="pull", state=RunState.QUEUED)
        session.add(run)
        session.commit()
        run_id = run.id
    assert pull_jobs.sweep_pulls(runtime)["queued"] == 0
    assert _pull_jobs(runtime) == []
    _age(runtime, run_id)
    assert pull_jobs.sweep_pulls(runtime)["queued"] == 1
    assert pull_jobs.sweep_pulls(runtime)["queued"] == 0  # its job is queued now: never two
    assert _pull_jobs(runtime) == [pull_jobs.pull_job_id(runtime, run.company_id, run_id)]


def test_a_pull_cancelled_from_the_queue_is_closed_not_queued_again(
    runtime: Runtime, redis_conn: Any, committed_db: Any
) -> None:
    company_id = _new_company(runtime)
    run_id = request_pull(runtime, company_id)
    assert run_id is not None
    assert board.cancel(runtime.redis, pull_jobs.pull_job_id(runtime, company_id, run_id))
    _age(runtime, run_id)
    assert pull_jobs.sweep_pulls(runtime)["cancelled"] == 1
    assert _state(runtime, run_id) == RunState.SKIPPED
    assert _pull_jobs(runtime) == []


def test_a_request_finding_the_flag_of_a_lost_pull_queues_a_new_one(
    runtime: Runtime, redis_conn: Any, committed_db: Any
) -> None:
    company_id = _new_company(runtime)
    first = request_pull(runtime, company_id)
    assert first is not None
    _lose_queued_jobs(runtime)
    _age(runtime, first)
    second = request_pull(runtime, company_id)
    assert second is not None
    assert second != first
    assert _pull_jobs(runtime) == [pull_jobs.pull_job_id(runtime, company_id, second)]


def test_a_request_finding_the_flag_of_a_pull_that_ended_queues_a_new_one(
    runtime: Runtime, redis_conn: Any, committed_db: Any
) -> None:
    company_id = _new_company(runtime)
    first = request_pull(runtime, company_id)
    assert first is not None
    _work(runtime)
    # A flag left behind naming that run (its job could not clear it: Redis was away then).
    redis_conn.set(pending_key(runtime, company_id), first, ex=600)
    second = request_pull(runtime, company_id)
    assert second is not None
    assert second != first


def test_a_flag_of_a_pull_still_waiting_holds_requests_back(
    runtime: Runtime, redis_conn: Any, committed_db: Any
) -> None:
    company_id = _new_company(runtime)
    first = request_pull(runtime, company_id)
    assert first is not None
    _age(runtime, first)  # queued a while ago, its job still in Redis
    assert request_pull(runtime, company_id) is None
    assert pull_jobs.sweep_pulls(runtime) == {
        "waiting": 1,
        "queued": 0,
        "cancelled": 0,
        "flags_cleared": 0,
    }
    assert redis_conn.get(pending_key(runtime, company_id)) == str(first).encode()


def test_the_sweep_clears_a_flag_that_outlived_its_pull(
    runtime: Runtime, redis_conn: Any, committed_db: Any
) -> None:
    company_id = _new_company(runtime)
    first = request_pull(runtime, company_id)
    assert first is not None
    _work(runtime)
    redis_conn.set(pending_key(runtime, company_id), first, ex=600)
    assert pull_jobs.sweep_pulls(runtime)["flags_cleared"] == 1
    assert redis_conn.get(pending_key(runtime, company_id)) is None


def test_a_worker_of_one_install_never_takes_another_installs_job(
    settings: Settings,
    engine: Any,
    pm: PluginManager,
    other_install: Runtime,
    redis_conn: Any,
    committed_db: Any,
) -> None:
    truncate_all(engine)
    mine = Runtime(settings=settings, engine=engine, pm=pm)
    with _installed(other_install):
        assert _new_company(other_install) == 1
        assert request_pull(other_install, 1) == 1
    with _installed(mine):
        _work(mine)  # my worker drains my queues only
    assert queues.queue(queues.PULL, other_install.redis).count == 1
    assert queues.rq_name(queues.PULL, mine.redis) != queues.rq_name(
        queues.PULL, other_install.redis
    )
    with _installed(other_install):
        _work(other_install)
        assert _state(other_install, 1) == RunState.NEEDS_ADMIN
