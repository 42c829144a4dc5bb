"""Named queues over one Redis, all using RQ's JSON serializer.

JSON keeps ORM objects (and anything else unsafe) out of job arguments, and lets the admin's
queue view show them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from redis import Redis
from rq import Queue
from rq import Retry
from rq.exceptions import DuplicateJobError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from rq.serializers import JSONSerializer

from core.logging_setup import job_meta

PULL = "costbridge-pull"
PUSH = "costbridge-push"
ATTACHMENTS = "costbridge-attachments"
WEBHOOKS = "costbridge-webhooks"
MAINTENANCE = "costbridge-maintenance"
#: Order matters: a worker listening on all of them takes webhooks and pushes first.
ALL = (WEBHOOKS, PUSH, PULL, ATTACHMENTS, MAINTENANCE)

DEFAULT_RETRY = Retry(max=4, interval=[15, 60, 300, 900])


def queue(name: str, connection: Redis) -> Queue:
    """One of costbridge's queues."""
    if name not in ALL:
        raise ValueError(f"unknown queue {name!r}; costbridge has {', '.join(ALL)}")
    return Queue(name, connection=connection, serializer=JSONSerializer)


def enqueue(
    connection: Redis,
    queue_name: str,
    func: Callable[..., Any],
    *,
    job_id: str,
    kwargs: dict[str, Any],
    meta: dict[str, Any] | None = None,
    retry: Retry | None = DEFAULT_RETRY,
    job_timeout: int = 600,
    result_ttl: int = 500,
) -> Job | None:
    """Enqueue `func(**kwargs)` under a deterministic id; None if that job is already queued.

    Call this only after the transaction that wrote the run or outbox row has committed; the
    sweeper re-enqueues whatever Redis loses.
    """
    try:
        return queue(queue_name, connection).enqueue_call(
            func,
            kwargs=kwargs,
            job_id=job_id,
            meta=job_meta(meta),  # carries the queueing request's id into the job's log lines
            retry=retry,
            timeout=job_timeout,
            result_ttl=result_ttl,
            unique=True,
            failure_ttl=30 * 24 * 3600,
        )
    except DuplicateJobError:
        return None


def drop_if_stuck(connection: Redis, job_id: str, *, older_than: float) -> bool:
    """Delete a job RQ still calls "started" long after it began: its worker died (SIGKILL).

    A killed worker leaves its job "started" until a peer's maintenance pass, many minutes
    later, and meanwhile `unique=True` refuses the id. Only for short jobs with a fixed id
    (the sweeps), where "older than" surely means "dead".

    Returns:
        True when a stuck job was removed.
    """
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    if job.get_status(refresh=False) != JobStatus.STARTED or job.started_at is None:
        return False
    started = job.started_at
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.UTC)
    if (dt.datetime.now(dt.UTC) - started).total_seconds() < older_than:
        return False
    job.delete()
    return True
