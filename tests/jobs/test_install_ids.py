"""The install id in every RQ job id and costbridge Redis key (`core.namespace`)."""

from __future__ import annotations

import threading

import pytest
from redis import Redis
from sqlalchemy import create_engine
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from core import namespace
from core.db import Base
from core.jobs.webhooks import job_id_for
from core.jobs.worker import public_sweep_job_id
from core.jobs.worker import sweep_job_id
from core.models import Install
from core.qbo.book_close import BookClose
from core.qbo.throttle import RealmThrottle

REALM = "9130355377213776"


def test_sweeps_and_webhook_jobs_are_named_under_the_install(runtime):
    install = runtime.install_id
    assert sweep_job_id(runtime) == f"sweep-{install}"
    assert public_sweep_job_id(runtime) == f"sweep-public-{install}"
    assert job_id_for(runtime, REALM, [3, 1, 2]).startswith(f"webhook-{install}-{REALM}-")
    assert job_id_for(runtime, REALM, [1, 2, 3]) == job_id_for(runtime, REALM, [3, 2, 1])


def test_qbo_throttle_lock_and_cache_keys_are_named_under_the_runtimes_install(runtime):
    install = runtime.install_id
    throttle = RealmThrottle(runtime.redis)
    names = ("rate", "batch", "inflight", "pause")
    assert set(throttle.realm_keys(REALM).values()) == {
        f"costbridge:{install}:qbo:{name}:{REALM}" for name in names
    }
    assert runtime.qbo_tokens.lock_key(REALM) == f"costbridge:{install}:lock:refresh:{REALM}"
    assert BookClose(None, REALM, runtime.redis).key == f"costbridge:{install}:book-close:{REALM}"


def test_a_connection_of_no_install_names_keys_without_one(redis_url):
    conn = Redis.from_url(redis_url)
    try:
        assert namespace.install_id_of(conn) is None
        assert RealmThrottle(conn).realm_keys(REALM)["rate"] == f"costbridge:qbo:rate:{REALM}"
    finally:
        conn.close()


def test_a_job_id_refuses_characters_rq_does_not_allow():
    assert namespace.job_id("0a1b2c3d4e5f", "pull", 4, 17) == "pull-0a1b2c3d4e5f-4-17"
    with pytest.raises(ValueError, match="not a valid RQ job id"):
        namespace.job_id("0a1b2c3d4e5f", "webhook", "realm:1")


def test_the_install_id_is_read_once_per_runtime(runtime, committed_db):
    first = runtime.install_id
    with runtime.sessions() as session:
        session.execute(delete(Install))
        session.commit()
    assert runtime.install_id == first  # cached: the runtime's jobs and keys keep one name


def test_a_schema_made_without_migrations_gets_one_install_id(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'made.db'}")
    Base.metadata.create_all(engine)
    try:
        made = namespace.read_install_id(engine)
        assert len(made) == 12
        assert namespace.read_install_id(engine) == made
    finally:
        engine.dispose()


def test_processes_finding_no_install_row_at_once_agree_on_one(engine, committed_db):
    with engine.begin() as conn:
        conn.execute(delete(Install))
    start = threading.Barrier(8)
    seen: list[str] = []

    def read() -> None:
        start.wait()
        seen.append(namespace.read_install_id(engine))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(seen) == 8
    assert len(set(seen)) == 1
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Install)) == 1
