"""`costbridge worker`: an RQ worker on costbridge's queues, with its scheduler for retries."""

from __future__ import annotations

from collections.abc import Sequence

from rq import Worker
from rq.serializers import JSONSerializer

from core import runtime as runtime_mod
from core.jobs import queues


def run_worker(
    rt: runtime_mod.Runtime,
    queue_names: Sequence[str] = queues.ALL,
    *,
    burst: bool = False,
    name: str | None = None,
) -> bool:
    """Work jobs until stopped (or, with `burst`, until the queues are empty).

    The scheduler is on: RQ's `Retry` intervals need it.
    """
    runtime_mod.install(rt)
    worker = Worker(
        [queues.queue(n, rt.redis) for n in queue_names],
        connection=rt.redis,
        serializer=JSONSerializer,
        name=name,
    )
    return bool(worker.work(burst=burst, with_scheduler=True))
