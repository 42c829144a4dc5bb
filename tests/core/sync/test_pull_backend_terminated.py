"""PostgreSQL terminates the pull's connection mid-sync: the pull goes again and loses nothing.

RELIABILITY.md §3, recipe 3: `pg_terminate_backend` (allowed for backends of the same role)
on the connection the pull writes through, while `pull_company` reads a demo company from the
sandbox. A backfill pull afterwards re-reads everything and must find nothing to add, change or
remove.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from core.db import make_engine
from core.models import Actual
from core.models import Company
from core.models import RunState
from core.models import SyncRun
from core.runtime import Runtime
from core.sync.jobs import pull_retrying
from costbridge_testing.sandbox import connect_company


@pytest.fixture
def named_runtime(qbo_runtime: Runtime, database_url: str) -> Iterator[Runtime]:
    """The sandbox runtime on an engine whose connections carry a name we can find."""
    name = f"costbridge-test-{uuid.uuid4().hex[:8]}"
    engine: Engine = make_engine(database_url, connect_args={"application_name": name})
    rt = Runtime(settings=qbo_runtime.settings, engine=engine, pm=qbo_runtime.pm)
    rt.__dict__["redis"] = qbo_runtime.redis
    rt.__dict__["app_name"] = name
    yield rt
    engine.dispose()


def terminate_writer(killer: Engine, name: str, stop: threading.Event, killed: list[int]) -> None:
    """Terminate the pull's working connection (not its advisory-lock one) once."""
    while not stop.is_set() and not killed:
        with killer.connect() as conn:
            pids = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = :name "
                    "AND query NOT ILIKE '%pg_advisory%' AND query ILIKE '%actual%'"
                ),
                {"name": name},
            ).scalars()
            for pid in pids:
                if conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar():
                    killed.append(pid)
            conn.commit()
        stop.wait(0.005)


def test_a_pull_whose_connection_is_terminated_resumes_and_loses_nothing(
    named_runtime: Runtime,
    company: Company,
    sandbox_control: Any,
    engine: Engine,
) -> None:
    rt = named_runtime
    hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id
    sandbox_control._post("seed", {"kind": "demo", "realm_id": hint, "size": 0.1})
    connect_company(rt.settings, rt.sessions, company.id, realm_hint=hint)

    stop, killed = threading.Event(), list[int]()
    killer = threading.Thread(
        target=terminate_writer, args=(engine, rt.__dict__["app_name"], stop, killed)
    )
    killer.start()
    with rt.sessions() as session:  # as `request_pull` queues it
        queued = SyncRun(company_id=company.id, kind="pull", state=RunState.QUEUED)
        session.add(queued)
        session.commit()
        run_id = queued.id
    try:
        report = pull_retrying(rt, company.id, run_id=run_id, sleep=lambda _s: None)
    finally:
        stop.set()
        killer.join(10)
    assert killed, "the pull's connection was never caught mid-sync"
    assert report.state == RunState.SUCCEEDED
    with rt.sessions() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        assert run.state == RunState.SUCCEEDED
        assert run.attempts == 2
        lines = session.scalar(select(func.count()).select_from(Actual))
    assert lines is not None
    assert lines > 0

    # Everything QuickBooks has is there once: a full re-read finds nothing to do.
    again = pull_retrying(rt, company.id, since=dt.date(2000, 1, 1))
    assert again.state == RunState.SUCCEEDED
    assert (again.tally.added, again.tally.changed, again.tally.removed) == (0, 0, 0)
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Actual)) == lines
