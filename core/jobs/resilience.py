"""What keeps a worker going in production: job log context, Redis loss, several processes.

- `CostbridgeWorker` binds each job's ids (`job_id`, the `request_id` that queued it, and
  `company_id`/`realm_id`/`run_id` when its meta has them) to the job's log lines, and gives its
  forked work horses one metrics identity per worker (`core.metrics.new_process`).
- Warm shutdown is RQ's own: the first SIGTERM or SIGINT lets the job in progress finish and
  takes no new one; a second one kills the horse (rq/rq `docs/docs/workers.md`).
- `work_until_stopped`: RQ retries a lost Redis while it waits for a job, but gives up on one
  lost elsewhere in its loop (heartbeat, maintenance, start-up). This loop starts a new RQ worker
  after such an exit, once Redis answers again, waiting 1, 2, 4 ... 30 seconds between tries.
  A burst worker (`--burst`: drain the queues, then exit) does not wait: an unreachable Redis
  raises `RedisUnreachable`, which the command reports in one line before exiting 1.
- `run_pool`: `costbridge worker --concurrency N` runs N worker processes and passes SIGTERM
  and SIGINT on to each.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from collections.abc import Sequence
from types import FrameType
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Worker
from rq.job import Job
from rq.queue import Queue

from core import logging_setup
from core import metrics
from core import runtime as runtime_mod

log = logging.getLogger(__name__)

__all__ = [
    "CostbridgeWorker",
    "RedisUnreachable",
    "run_pool",
    "wait_for_redis",
    "work_until_stopped",
]

BACKOFF_MAX = 30.0
_META_FIELDS = ("request_id", "company_id", "realm_id", "run_id", "project_id")


class RedisUnreachable(Exception):  # noqa: N818 - it names the condition, as the CLI says it
    """Redis did not answer a worker that does not wait for it (a burst worker)."""

    def __init__(self, redis: Redis, cause: BaseException) -> None:
        """Say where Redis was looked for (host, port and database; never a password)."""
        kwargs = redis.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        self.where = f"{where}/{kwargs.get('db', 0)}"
        self.reason = type(cause).__name__
        super().__init__(f"Redis at {self.where} is unreachable ({self.reason})")


class CostbridgeWorker(Worker):
    """RQ's forking worker, with job ids on log lines and one metrics file set per worker."""

    stop_requested_by_signal = False
    #: Set by `work_until_stopped` when SIGTERM or SIGINT came before RQ put its own handlers
    #: in place (RQ registers the worker, so it is visible, a moment before that).
    early_stop: threading.Event | None = None

    def _install_signal_handlers(self) -> None:
        """RQ's handlers, then honour a stop signal that arrived while the worker was starting."""
        super()._install_signal_handlers()  # type: ignore[no-untyped-call]
        if self.early_stop is not None and self.early_stop.is_set():
            self.stop_requested_by_signal = True
            self._stop_requested = True

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Warm shutdown (RQ's), remembered so the restart loop does not start another."""
        self.stop_requested_by_signal = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        """In the forked horse: count metrics under the worker's identity, then run the job.

        The horse also drops the database connections it inherited (without closing them: they
        are the worker's): two processes on one connection break each other's statements (the
        worker reads the install id, so its pool holds a connection when it forks).
        """
        metrics.new_process(f"rqworker{os.getppid()}")
        installed = runtime_mod.installed()
        if installed is not None:
            installed.engine.dispose(close=False)
        super().main_work_horse(job, queue)

    def perform_job(self, job: Job, queue: Queue) -> bool:
        """Run the job with its ids bound to every log line it writes."""
        meta = job.meta or {}
        with logging_setup.bind(job_id=job.id, **{k: meta.get(k) for k in _META_FIELDS}):
            return bool(super().perform_job(job, queue))


def wait_for_redis(redis: Redis, stop: threading.Event, *, first_wait: float = 1.0) -> bool:
    """Ping Redis until it answers, backing off up to `BACKOFF_MAX`; False if `stop` was set."""
    wait = first_wait
    while not stop.is_set():
        try:
            redis.ping()
            return True
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            log.warning("Redis unreachable (%s); trying again in %.0fs", type(exc).__name__, wait)
        if stop.wait(wait):
            break
        wait = min(wait * 2, BACKOFF_MAX)
    return False


def work_until_stopped(
    redis: Redis,
    make_worker: Callable[[], CostbridgeWorker],
    *,
    burst: bool = False,
    first_wait: float = 1.0,
) -> bool:
    """Run RQ workers one after another until a signal stops one (or a burst ends).

    Args:
        redis: The connection the workers use (pinged between runs).
        make_worker: Builds a fresh worker (a stopped RQ worker cannot be started again).
        burst: Stop when the queues are empty instead of waiting for jobs.
        first_wait: Seconds before the first reconnection attempt.

    Returns:
        Whether any worker ran a job.
    """
    stop = threading.Event()
    worked = False
    previous = _install(lambda *_: stop.set())
    try:
        while True:
            # Our handler holds a signal until RQ's own take over inside `work()`: a stop that
            # comes while the worker starts is then a clean stop, not the default kill.
            _install(lambda *_: stop.set())
            if burst:
                _ping_once(redis)
            elif not wait_for_redis(redis, stop, first_wait=first_wait):
                return worked
            worker = make_worker()
            worker.early_stop = stop
            try:
                worked = worker.work(burst=burst, with_scheduler=True) or worked
            except (RedisConnectionError, RedisTimeoutError) as exc:
                if burst:
                    raise RedisUnreachable(redis, exc) from exc
                log.warning("worker %s lost Redis (%s)", worker.name, type(exc).__name__)
            if worker.stop_requested_by_signal or burst:
                return worked
            log.warning("worker %s stopped without being asked; starting a new one", worker.name)
            _install(lambda *_: stop.set())
            if stop.wait(first_wait):
                return worked
    finally:
        _restore(previous)


def _ping_once(redis: Redis) -> None:
    try:
        redis.ping()
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise RedisUnreachable(redis, exc) from exc


def _install(handler: Callable[[int, FrameType | None], Any]) -> dict[int, Any]:
    previous: dict[int, Any] = {
        sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    for sig in previous:
        signal.signal(sig, handler)
    return previous


def _restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def run_pool(
    count: int, worker_args: Sequence[str], *, name: str | None = None, restart: bool = True
) -> int:
    """Run `count` `costbridge worker` processes with `worker_args` until they all stop.

    SIGTERM and SIGINT are passed on to every process (each finishes its job in progress); a
    process that fails on its own (non-zero exit) is started again after a second, unless
    `restart` is off (burst workers: a failure there is the answer).

    Args:
        count: How many processes.
        worker_args: Options for each `costbridge worker` (without `--concurrency`).
        name: Names the processes `<name>-1` ... `<name>-<count>` (restarts get RQ's names).
        restart: Start a process that failed on its own again.

    Returns:
        0 when every process exited cleanly (or, still starting, died of the forwarded
        signal), else 1.
    """
    stopping = threading.Event()
    forwarded: set[int] = set()
    # Our own interpreter and CLI with the operator's own options: nothing untrusted.
    command = [sys.executable, "-m", "core.cli", "worker", *worker_args]

    def start(named: str | None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(command + ([f"--name={named}"] if named else []))  # noqa: S603

    procs: list[subprocess.Popen[bytes]] = []
    told: set[int] = set()

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        forwarded.add(signum)
        for proc in procs:
            if proc.poll() is None:
                told.add(proc.pid)
                proc.send_signal(signum)

    _install(forward)
    for i in range(1, count + 1):
        if stopping.is_set():
            break
        procs.append(start(f"{name}-{i}" if name else None))
        if stopping.is_set() and procs[-1].pid not in told:
            # The signal came between its start and this line: `forward` did not see it.
            procs[-1].send_signal(min(forwarded))
    while True:
        for index, proc in enumerate(procs):
            code = proc.poll()
            if code is None or code == 0 or stopping.is_set() or not restart:
                continue
            log.warning("worker process %s exited with %s; starting another", proc.pid, code)
            procs[index] = start(None)
        if all(p.poll() is not None for p in procs):
            break
        stopping.wait(1.0)
    # A process still importing when the signal came dies of it before it can stop warm: it
    # had no job, so that is a clean stop too.
    return 1 if any(p.returncode not in {0, *(-n for n in forwarded)} for p in procs) else 0
