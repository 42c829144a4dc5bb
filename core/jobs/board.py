"""What support sees of the queues: RQ's registries joined with the sync log, and what to do.

Reads every costbridge queue's registries (queued, started, scheduled, failed, finished) with
RQ's JSON serializer, joins each job to its `SyncRun` (by `meta["run_id"]`, else by job id) for
the project, the words and the fix, and groups failures by root cause so one retry can take a
whole group. Retrying is `FailedJobRegistry.requeue` (rq/rq `rq/registry.py`); cancelling is
RQ's `Job.cancel`, which also takes the job out of its registry.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from redis import Redis
from rq.exceptions import InvalidJobOperation
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.registry import FinishedJobRegistry
from rq.registry import ScheduledJobRegistry
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.jobs import queues
from core.models import SyncRun

STATES = ("queued", "started", "scheduled", "failed", "finished")
#: How many jobs of one state a page lists at most (newest first for finished and failed).
LIMIT = 200
log = logging.getLogger(__name__)


@dataclass
class JobRow:
    """One RQ job as the queue view shows it."""

    id: str
    queue: str
    state: str
    func: str
    kwargs: dict[str, Any]
    kind: str | None
    project_id: int | None
    company_id: int | None
    progress: Any
    enqueued_at: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    error: str | None
    traceback: str | None
    retries_left: int | None
    run: SyncRun | None = None

    @property
    def seconds(self) -> float | None:
        """How long it ran (or has been running)."""
        if self.started_at is None:
            return None
        end = self.ended_at or dt.datetime.now(dt.UTC)
        start = self.started_at
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        if end.tzinfo is None:
            end = end.replace(tzinfo=dt.UTC)
        return max((end - start).total_seconds(), 0.0)

    @property
    def cause(self) -> str:
        """The root cause in words: the sync run's message, else the exception's last line."""
        if self.run is not None and self.run.message and self.state == "failed":
            return self.run.message
        return self.error or "Failed without an error message"

    @property
    def fix(self) -> str | None:
        """What to do about it, when the run says."""
        return self.run.fix if self.run is not None else None


@dataclass
class FailureGroup:
    """Failed jobs that share one root cause."""

    cause: str
    fix: str | None
    jobs: list[JobRow] = field(default_factory=list)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _last_line(exc_info: str | None) -> str | None:
    if not exc_info:
        return None
    lines = [line for line in exc_info.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1].strip()
    # Our own errors carry words for people: drop their class path ("core.errors.NeedsAdmin:").
    return _OURS.sub("", last)[:500]


def _row(job: Job, queue_name: str, state: str) -> JobRow:
    meta = job.meta or {}
    try:
        kwargs = dict(job.kwargs or {})
        func = job.func_name or "?"
    except Exception as exc:  # noqa: BLE001 - a job whose function cannot be named still shows
        log.warning("job %s listed without its function: %s", job.id, type(exc).__name__)
        kwargs, func = {}, "?"
    exc_info = None
    if state == "failed":
        result = job.latest_result()
        exc_info = result.exc_string if result is not None else None
    return JobRow(
        id=job.id,
        queue=queue_name,
        state=state,
        func=func.rsplit(".", 1)[-1],
        kwargs=kwargs,
        kind=meta.get("kind"),
        project_id=meta.get("project_id") or kwargs.get("project_id"),
        company_id=meta.get("company_id") or kwargs.get("company_id"),
        progress=meta.get("progress"),
        enqueued_at=_aware(job.enqueued_at),
        started_at=_aware(job.started_at),
        ended_at=_aware(job.ended_at),
        error=_last_line(exc_info),
        traceback=exc_info,
        retries_left=job.retries_left,
    )


def _ids(redis: Redis, name: str, state: str) -> list[str]:
    q = queues.queue(name, redis)
    if state == "queued":
        return list(q.get_job_ids(0, LIMIT - 1))
    registry: Any = {
        "started": StartedJobRegistry,
        "scheduled": ScheduledJobRegistry,
        "failed": FailedJobRegistry,
        "finished": FinishedJobRegistry,
    }[state](queue=q)
    ids = list(registry.get_job_ids(0, -1))
    if state in ("failed", "finished"):
        ids.reverse()  # newest first
    return ids[:LIMIT]


def jobs(redis: Redis, state: str, session: Session | None = None) -> list[JobRow]:
    """Every job in one state over all costbridge queues, joined with its sync run."""
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}; choose from {', '.join(STATES)}")
    rows: list[JobRow] = []
    for name in queues.ALL:
        ids = _ids(redis, name, state)
        for job in Job.fetch_many(ids, connection=redis, serializer=JSONSerializer):
            if job is not None:
                rows.append(_row(job, name, state))
    if session is not None:
        _join_runs(session, rows)
    return rows


def counts(redis: Redis) -> dict[str, int]:
    """How many jobs each state holds over all queues."""
    totals = dict.fromkeys(STATES, 0)
    for name in queues.ALL:
        q = queues.queue(name, redis)
        totals["queued"] += q.count
        totals["started"] += StartedJobRegistry(queue=q).count
        totals["scheduled"] += ScheduledJobRegistry(queue=q).count  # type: ignore[no-untyped-call]
        totals["failed"] += FailedJobRegistry(queue=q).count
        totals["finished"] += FinishedJobRegistry(queue=q).count
    return totals


def _join_runs(session: Session, rows: Sequence[JobRow]) -> None:
    if not rows:
        return
    run_ids = {r.kwargs.get("run_id") for r in rows} - {None}
    found = session.scalars(
        select(SyncRun).where(
            or_(SyncRun.id.in_(run_ids), SyncRun.job_id.in_([r.id for r in rows]))
        )
    ).all()
    by_id = {run.id: run for run in found}
    by_job = {run.job_id: run for run in found if run.job_id}
    for row in rows:
        row.run = by_id.get(row.kwargs.get("run_id")) or by_job.get(row.id)  # type: ignore[arg-type]
        if row.run is not None and row.project_id is None:
            row.project_id = row.run.project_id


_NUMBERS = re.compile(r"\b\d+\b")
_OURS = re.compile(r"^(?:core|plugins)(?:\.\w+)+: ")


def failure_groups(rows: Iterable[JobRow]) -> list[FailureGroup]:
    """Failed jobs grouped by root cause (numbers in a message do not split a group)."""
    groups: OrderedDict[str, FailureGroup] = OrderedDict()
    for row in rows:
        key = _NUMBERS.sub("#", row.cause)
        group = groups.get(key)
        if group is None:
            group = groups[key] = FailureGroup(row.cause, row.fix)
        group.jobs.append(row)
    return sorted(groups.values(), key=lambda g: -len(g.jobs))


class MalformedJobId(ValueError):
    """A job id no costbridge job can have (RQ itself would raise a bare ValueError)."""


#: What a costbridge job id is made of (`core.namespace.job_id`; RQ allows the same).
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")


def check_job_id(job_id: object) -> str:
    """`job_id` when it can name a job: letters, digits, `_` and `-`, at most 200.

    Raises:
        MalformedJobId: Anything else (`a.b`, `../../x`, empty), before Redis is asked.
    """
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise MalformedJobId("not a job id")
    return job_id


def _fetch(redis: Redis, job_id: str) -> Job:
    return Job.fetch(check_job_id(job_id), connection=redis, serializer=JSONSerializer)


def retry(redis: Redis, job_id: str) -> bool:
    """Put one failed job back on its queue; False when it is not in a failed registry.

    Raises:
        MalformedJobId: `job_id` cannot name a job (`check_job_id`).
    """
    try:
        job = _fetch(redis, job_id)
    except NoSuchJobError:
        return False
    registry = FailedJobRegistry(queue=queues.queue(job.origin, redis))
    try:
        registry.requeue(job_id)
    except InvalidJobOperation:
        return False
    return True


def retry_many(redis: Redis, job_ids: Iterable[str]) -> int:
    """Retry each failed job named; returns how many went back on a queue.

    Raises:
        MalformedJobId: One of `job_ids` cannot name a job (checked before any is retried).
    """
    checked = [check_job_id(job_id) for job_id in job_ids]
    return sum(1 for job_id in checked if retry(redis, job_id))


def retry_all_failed(redis: Redis) -> int:
    """Put every failed job of every costbridge queue back on its queue."""
    total = 0
    for name in queues.ALL:
        registry = FailedJobRegistry(queue=queues.queue(name, redis))
        for job_id in registry.get_job_ids(0, -1):
            try:
                registry.requeue(job_id)
                total += 1
            except (InvalidJobOperation, NoSuchJobError):
                continue
    return total


def cancel(redis: Redis, job_id: str) -> bool:
    """Cancel a queued or scheduled job (it will not run); False when there is no such job.

    Raises:
        MalformedJobId: `job_id` cannot name a job (`check_job_id`).
    """
    try:
        job = _fetch(redis, job_id)
    except NoSuchJobError:
        return False
    try:
        job.cancel()
    except InvalidJobOperation:
        return False
    return True
