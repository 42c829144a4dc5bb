"""Real `costbridge worker` processes: warm shutdown, a lost Redis, several processes."""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from freezegun import freeze_time
from redis import Redis
from rq import Worker
from rq.job import Job
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from core.jobs import queues
from core.namespace import InstallRedis
from tests.ops.conftest import closed_port
from tests.ops.conftest import free_port
from tests.ops.conftest import wait_until
from tests.ops.jobs import die
from tests.ops.jobs import die_with_worker
from tests.ops.jobs import note
from tests.ops.jobs import slow

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def enqueue(redis, func, job_id, **kwargs):
    return queues.enqueue(redis, queues.MAINTENANCE, func, job_id=job_id, kwargs=kwargs, retry=None)


def test_sigterm_lets_the_running_job_finish_and_takes_no_new_one(
    production_env, processes, redis_conn, redis_url, tmp_path, runtime
):
    first, second = tmp_path / "first", tmp_path / "second"
    enqueue(runtime.redis, slow, "slow-1", seconds=3, marker=str(first))
    enqueue(runtime.redis, slow, "slow-2", seconds=3, marker=str(second))
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
    queue = queues.queue(queues.MAINTENANCE, runtime.redis)
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
    production_env, processes, private_redis, tmp_path, runtime
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
    start()
    marker = tmp_path / "after"
    conn = InstallRedis.open(f"redis://127.0.0.1:{port}/0", lambda: runtime.install_id)
    enqueue(conn, note, "after-outage", marker=str(marker))
    wait_until(marker.exists, timeout=40, what="a job run after Redis came back")
    assert worker.popen.poll() is None


def test_a_burst_worker_exits_1_at_once_naming_an_unreachable_redis(production_env, processes):
    port = closed_port()
    env = production_env(REDIS_URL=f"redis://127.0.0.1:{port}/0")
    worker = processes(["worker", "--burst"], env, "worker")
    assert worker.popen.wait(10) == 1
    said = [line for line in worker.text().splitlines() if line.strip()]
    assert said == [
        f"costbridge: Redis at 127.0.0.1:{port}/0 is unreachable (ConnectionError); "
        "a --burst worker does not wait for it."
    ]


def test_a_pool_of_burst_workers_does_not_restart_them_when_redis_is_unreachable(
    production_env, processes
):
    env = production_env(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    pool = processes(["worker", "--burst", "--concurrency", "2"], env, "pool")
    assert pool.popen.wait(30) == 1
    said = [line for line in pool.text().splitlines() if line.strip()]
    assert len(said) == 2
    assert all("is unreachable (ConnectionError)" in line for line in said)


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


def _children(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


def test_a_pool_stopped_while_its_workers_start_exits_cleanly(
    production_env, processes, redis_conn
):
    pool = processes(
        ["worker", "--concurrency", "2", "--queue", "maintenance", "--sweep-every", "0"],
        production_env(),
        "pool",
    )
    # SIGTERM as soon as the first worker process exists: it is still importing.
    wait_until(lambda: _children(pool.pid), timeout=30, interval=0.005, what="a worker process")
    pool.popen.send_signal(signal.SIGTERM)
    assert pool.popen.wait(30) == 0, pool.text()[-2000:]
    assert Worker.all(connection=redis_conn) == []


# A stop signal raised by the worker itself at the two moments before RQ's handlers exist:
# while the worker is being built, and right after RQ has registered it (when
# `costbridge worker --concurrency` and an operator can already see it).
_EARLY_STOP = """
import signal, sys
from redis import Redis
from rq.serializers import JSONSerializer
from core.jobs import queues
from core.jobs.resilience import CostbridgeWorker, work_until_stopped

redis = Redis.from_url(sys.argv[1])
moment = sys.argv[2]

class Worker(CostbridgeWorker):
    def register_birth(self, *args, **kwargs):
        super().register_birth(*args, **kwargs)
        if moment == "registered":
            signal.raise_signal(signal.SIGTERM)

made = []
def make():
    made.append(Worker([queues.queue(queues.MAINTENANCE, redis)], connection=redis,
                       serializer=JSONSerializer))
    if moment == "building":
        signal.raise_signal(signal.SIGTERM)
    return made[-1]

work_until_stopped(redis, make, first_wait=0.1)
print("workers", len(made), "asked", made[-1].stop_requested_by_signal)
"""


@pytest.mark.parametrize("moment", ["building", "registered"])
def test_a_stop_signal_while_the_worker_starts_is_a_clean_stop(
    moment, redis_conn, redis_url, tmp_path
):
    marker = tmp_path / "ran"
    enqueue(redis_conn, note, "queued-before-stop", marker=str(marker))
    done = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", _EARLY_STOP, redis_url, moment],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "workers 1 asked True"
    assert not marker.exists()
    assert Worker.all(connection=redis_conn) == []


@pytest.mark.parametrize("which", ["sweep_job_id", "public_sweep_job_id"])
def test_a_sweep_whose_work_horse_was_killed_is_queued_again(
    which, production_env, processes, redis_conn, runtime
):
    from core.jobs import worker as worker_mod
    from core.jobs.worker import schedule_sweep

    sweep = getattr(worker_mod, which)(runtime)
    enqueue(runtime.redis, die, sweep)
    worker = processes(
        ["worker", "--burst", "--queue", "maintenance", "--sweep-every", "0"],
        production_env(),
        "worker",
    )
    worker.popen.wait(60)
    assert Job.fetch(sweep, redis_conn, JSONSerializer).get_status() == JobStatus.FAILED
    schedule_sweep(runtime)
    assert sweep in queues.queue(queues.MAINTENANCE, runtime.redis).get_job_ids()


def test_a_sweep_whose_worker_was_killed_is_queued_again_once_it_is_surely_dead(
    production_env, processes, redis_conn, runtime
):
    from core.jobs.worker import SWEEP_STUCK_AFTER
    from core.jobs.worker import schedule_sweep
    from core.jobs.worker import sweep_job_id

    sweep_id = sweep_job_id(runtime)
    enqueue(runtime.redis, die_with_worker, sweep_id)
    worker = processes(
        ["worker", "--queue", "maintenance", "--sweep-every", "0"], production_env(), "worker"
    )
    assert worker.popen.wait(60) == -signal.SIGKILL
    assert Job.fetch(sweep_id, redis_conn, JSONSerializer).get_status() == JobStatus.STARTED
    maintenance = queues.queue(queues.MAINTENANCE, runtime.redis)
    assert schedule_sweep(runtime) is False  # it may still be running
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=SWEEP_STUCK_AFTER + 1)):
        assert schedule_sweep(runtime) is True
    assert sweep_id in maintenance.get_job_ids()
