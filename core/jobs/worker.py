"""`costbridge worker`: an RQ worker on costbridge's queues, with its scheduler for retries.

Each worker also puts the sweeper on the maintenance queue every `sweep_every` seconds. The
sweep job has one fixed id per install, so however many workers run, at most one sweep is queued
at a time; it is what re-enqueues the pushes and pulls a flushed Redis lost.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Sequence

from rq.serializers import JSONSerializer

from core import namespace
from core import runtime as runtime_mod
from core.jobs import push_jobs
from core.jobs import queues
from core.jobs import webhooks
from core.jobs.resilience import CostbridgeWorker
from core.jobs.resilience import work_until_stopped

log = logging.getLogger(__name__)
SWEEP_STUCK_AFTER = 30.0


def sweep_job_id(rt: runtime_mod.Runtime) -> str:
    """The fixed id of this install's sweep of pushes and pulls."""
    return namespace.job_id(rt.install_id, "sweep")


def public_sweep_job_id(rt: runtime_mod.Runtime) -> str:
    """The fixed id of this install's sweep of webhook changes and pending revokes."""
    return namespace.job_id(rt.install_id, "sweep-public")


def schedule_sweep(rt: runtime_mod.Runtime) -> bool:
    """Queue one sweep unless one is already waiting; True when this call queued it."""
    # A sweep takes well under a second: one "started" for longer died with its worker, and
    # one failed had its work horse killed. Either would keep the id taken (`unique=True`).
    sweep_id = sweep_job_id(rt)
    queues.drop_if_stuck(rt.redis, sweep_id, older_than=SWEEP_STUCK_AFTER)
    job = queues.enqueue(
        rt.redis,
        queues.MAINTENANCE,
        push_jobs.sweep,
        job_id=sweep_id,
        kwargs={},
        retry=None,
        # No result kept, so the next sweep can reuse the id as soon as this one finishes.
        result_ttl=0,
    )
    # Stored webhook changes never queued, and revokes Intuit has not confirmed (issue 13).
    public_id = public_sweep_job_id(rt)
    queues.drop_if_stuck(rt.redis, public_id, older_than=SWEEP_STUCK_AFTER)
    queues.enqueue(
        rt.redis,
        queues.MAINTENANCE,
        webhooks.sweep_public,
        job_id=public_id,
        kwargs={},
        retry=None,
        result_ttl=0,
    )
    return job is not None


def sweep_periodically(rt: runtime_mod.Runtime, every: float, stop: threading.Event) -> None:
    """Call `schedule_sweep` at once, then every `every` seconds, until `stop` is set."""
    wait = 0.0
    while not stop.wait(wait):
        wait = every
        try:
            schedule_sweep(rt)
        except Exception:  # a Redis hiccup must not end the sweeping; the next tick retries
            log.exception("could not queue the outbox sweep")


def run_worker(
    rt: runtime_mod.Runtime,
    queue_names: Sequence[str] = queues.ALL,
    *,
    burst: bool = False,
    name: str | None = None,
    sweep_every: float = 15.0,
) -> bool:
    """Work jobs until stopped (or, with `burst`, until the queues are empty).

    The scheduler is on: RQ's `Retry` intervals need it. `sweep_every=0` turns the periodic
    sweep off (for a worker that should only drain its queues).
    """
    runtime_mod.install(rt)
    starts = itertools.count()

    def make_worker() -> CostbridgeWorker:
        # A restarted worker takes a new name: the lost one may still be registered in Redis.
        restart = next(starts)
        return CostbridgeWorker(
            [queues.queue(n, rt.redis) for n in queue_names],
            connection=rt.redis,
            serializer=JSONSerializer,
            name=f"{name}-{restart}" if name and restart else name,
        )

    stop = threading.Event()
    if sweep_every > 0 and not burst:
        threading.Thread(
            target=sweep_periodically, args=(rt, sweep_every, stop), daemon=True, name="sweeper"
        ).start()
    try:
        # Restarts the RQ worker after a Redis loss; a signal stops it warm (resilience.py).
        return work_until_stopped(rt.redis, make_worker, burst=burst)
    finally:
        stop.set()
