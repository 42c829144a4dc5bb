"""Named queues over one Redis, all using RQ's JSON serializer.

JSON keeps ORM objects (and anything else unsafe) out of job arguments, and lets the admin's
queue view show them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.exceptions import WatchError
from rq import Queue
from rq import Retry
from rq.exceptions import DuplicateJobError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from rq.serializers import JSONSerializer

from core import namespace
from core.logging_setup import job_meta

PULL = "costbridge-pull"
PUSH = "costbridge-push"
ATTACHMENTS = "costbridge-attachments"
WEBHOOKS = "costbridge-webhooks"
MAINTENANCE = "costbridge-maintenance"
#: Order matters: a worker listening on all of them takes webhooks and pushes first.
ALL = (WEBHOOKS, PUSH, PULL, ATTACHMENTS, MAINTENANCE)

DEFAULT_RETRY = Retry(max=4, interval=[15, 60, 300, 900])


def rq_name(name: str, connection: Redis) -> str:
    """The RQ queue behind one of costbridge's queues: `<name>-<install id>`.

    Two installs sharing one Redis (or a database recreated under a Redis that remembers the old
    one) each listen on their own queues, so a worker never takes another install's job and runs
    its ids against the wrong database. A plain `Redis` (no install) names the bare queue.
    """
    install = namespace.install_id_of(connection)
    return f"{name}-{install}" if install else name


def queue(name: str, connection: Redis) -> Queue:
    """One of costbridge's queues, by its name (`costbridge-push`) or its RQ name (a job's
    `origin`, which carries the install id)."""
    install = namespace.install_id_of(connection)
    if install and name.endswith(f"-{install}"):
        name = name.removesuffix(f"-{install}")
    if name not in ALL:
        raise ValueError(f"unknown queue {name!r}; costbridge has {', '.join(ALL)}")
    return Queue(rq_name(name, connection), connection=connection, serializer=JSONSerializer)


#: States in which a job still stands for work to come: its id means "already queued".
LIVE_STATES = frozenset(
    {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
)


def enqueue(
    connection: Redis,
    queue_name: str,
    func: Callable[..., Any] | str,
    *,
    job_id: str,
    kwargs: dict[str, Any],
    meta: dict[str, Any] | None = None,
    retry: Retry | None = DEFAULT_RETRY,
    job_timeout: int = 600,
    result_ttl: int = 500,
) -> Job | None:
    """Enqueue `func(**kwargs)` under a deterministic id; None if that job is already queued.

    `func` is the job function or its dotted path (a layer below the job functions names them
    by path, as RQ stores them).

    "Already queued" means a job of that id is queued, started, deferred or scheduled. One that
    ended (finished with its result kept, failed, stopped, cancelled) is deleted and the new
    one queued in its place: RQ keeps ended jobs for minutes to weeks, and `unique=True` alone
    would refuse the id all that time.

    Call this only after the transaction that wrote the run or outbox row has committed; the
    sweeper re-enqueues whatever Redis loses.
    """
    # RQ types its function argument as a constrained TypeVar (a function or a dotted path).
    target: Any = func
    for _ in range(3):
        try:
            return queue(queue_name, connection).enqueue_call(
                target,
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
            if not free_if_ended(connection, job_id):
                return None
    # Each pass found an ended job and freed its id, and each time another process queued the
    # id first: that job is queued now.
    return None


def is_live(connection: Redis, job_id: str) -> bool:
    """Whether RQ holds a job of this id that is queued, started, deferred or scheduled."""
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in LIVE_STATES


def free_if_ended(connection: Redis, job_id: str) -> bool:
    """Delete the job of this id unless it is live; True when the id is free now.

    The delete is conditional on the job hash not changing after its status was read (WATCH),
    so a job another process queued under the same id a moment ago is never deleted.
    """
    with connection.pipeline() as pipe:
        while True:
            try:
                job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
            except NoSuchJobError:
                return True
            try:
                pipe.watch(job.key)  # type: ignore[no-untyped-call]
                if _status(pipe.hget(job.key, "status")) in LIVE_STATES:
                    pipe.unwatch()
                    return False
                pipe.multi()
                job.delete(pipeline=pipe)
                pipe.execute()
                return True
            except WatchError:
                continue


def _status(raw: Any) -> JobStatus | None:
    text = raw.decode() if isinstance(raw, bytes) else raw
    try:
        return JobStatus(text)
    except ValueError:
        return None  # no status at all: nothing a worker will ever take


def drop_if_stuck(connection: Redis, job_id: str, *, older_than: float) -> bool:
    """Delete a fixed-id job that would keep `unique=True` from queueing that id again.

    That is any state but queued or freshly started: "started" for longer than `older_than`
    (its worker died by SIGKILL and RQ keeps calling it started until a peer's maintenance
    pass, minutes later), failed (its work horse was killed: RQ keeps a failed job for
    `failure_ttl`), stopped, cancelled, or finished with its result still kept. Only for short
    jobs with a fixed id (the sweeps), where "older than" surely means "dead".

    Returns:
        True when a job was removed.
    """
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        return False
    if status == JobStatus.STARTED:
        began = job.started_at or job.enqueued_at
        if began is not None:
            if began.tzinfo is None:
                began = began.replace(tzinfo=dt.UTC)
            if (dt.datetime.now(dt.UTC) - began).total_seconds() < older_than:
                return False
    job.delete()
    return True
