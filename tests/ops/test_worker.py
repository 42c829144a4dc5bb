"""Real `costbridge worker` processes: warm shutdown, a lost Redis, several processes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest
from redis import Redis
from rq import Worker
from rq.job import Job
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from core.jobs import queues
from tests.ops.conftest import free_port
from tests.ops.conftest import wait_until
from tests.ops.jobs import note
from tests.ops.jobs import slow

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def enqueue(redis, func, job_id, **kwargs):
    return queues.enqueue(redis, queues.MAINTENANCE, func, job_id=job_id, kwargs=kwargs, retry=None)


def test_sigterm_lets_the_running_job_finish_and_takes_no_new_one(
    production_env, processes, redis_conn, redis_url, tmp_path
):
    first, second = tmp_path / "first", tmp_path / "second"
    enqueue(redis_conn, slow, "slow-1", seconds=3, marker=str(first))
    enqueue(redis_conn, slow, "slow-2", seconds=3, marker=str(second))
    worker = processes(
        ["worker", "--queue", "maintenance", "--sweep-every", "0"], production_env(), "worker"
    )
    worker.wait_for_line("slow job started")
    worker.popen.send_signal(signal.SIGTERM)
    assert worker.popen.wait(30) == 0
    assert first.read_text() == "done"
    assert not second.exists()
    job = Job.fetch("slow-1", connection=redis_conn, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    queue = queues.queue(queues.MAINTENANCE, redis_conn)
    assert StartedJobRegistry(queue=queue).get_job_ids() == []
    assert queue.get_job_ids() == ["slow-2"]
    assert Worker.all(connection=redis_conn) == []


@pytest.fixture
def private_redis(tmp_path):
    """A throwaway redis-server on a free port, restartable (`start()` / `stop()`)."""
    port = free_port()
    procs = []

    def start():
        proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )
        procs.append(proc)
        conn = Redis(port=port)
        wait_until(lambda: _pings(conn), what="redis-server up")
        return conn

    def stop():
        procs[-1].terminate()
        procs[-1].wait(10)

    yield port, start, stop
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def _pings(conn):
    try:
        return conn.ping()
    except Exception:
        return False


def test_worker_waits_for_a_lost_redis_and_works_again(
    production_env, processes, private_redis, tmp_path
):
    port, start, stop = private_redis
    start()
    env = production_env(REDIS_URL=f"redis://127.0.0.1:{port}/0")
    worker = processes(["worker", "--queue", "maintenance", "--sweep-every", "0"], env, "worker")
    worker.wait_for_line("Listening on")
    stop()
    worker.wait_for_line("Redis")
    time.sleep(1.5)
    assert worker.popen.poll() is None
    conn = start()
    marker = tmp_path / "after"
    enqueue(conn, note, "after-outage", marker=str(marker))
    wait_until(marker.exists, timeout=40, what="a job run after Redis came back")
    assert worker.popen.poll() is None


def test_concurrency_runs_that_many_workers_and_stops_them_all(
    production_env, processes, redis_conn
):
    pool = processes(
        ["worker", "--concurrency", "2", "--queue", "maintenance", "--sweep-every", "0"],
        production_env(),
        "pool",
    )
    wait_until(lambda: len(Worker.all(connection=redis_conn)) == 2, what="two workers")
    pool.popen.send_signal(signal.SIGTERM)
    assert pool.popen.wait(30) == 0
    assert Worker.all(connection=redis_conn) == []
