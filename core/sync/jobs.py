"""Pull jobs: queued on demand or by webhooks, debounced per company (many webhooks, one pull).

`request_pull` sets a Redis flag naming the run it queues; while that run is still waiting (or
running) with a live job, further requests add nothing. The job clears the flag as it starts, so
a change reported during a pull queues one more pull after it. A flag whose run ended, or whose
job Redis no longer holds, is cleared by the next request or sweep: it never outlives its pull.
Job arguments are ids only.

The maintenance sweep (`sweep_pulls`) queues again every run still waiting with no live job: one
whose request died between its commit and Redis, or whose job a flushed Redis lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import uuid
from typing import Any

from redis.exceptions import RedisError
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError

from core import metrics
from core import namespace
from core import runtime as runtime_mod
from core.db import utcnow
from core.jobs import queues
from core.models import Company
from core.models import RunState
from core.models import SyncRun
from core.runtime import Runtime
from core.sync.attachments import pull_attachments
from core.sync.engine import PullReport
from core.sync.engine import pull_company

#: How long the flag of a queued pull lives at most (a lost job frees it by itself).
PENDING_TTL = 600
#: How long a request's claim on the flag lives before it names its run (a died request's
#: claim frees it by itself).
CLAIM_TTL = 30
#: A queued run this young may still be on its way to Redis (its request commits the run, then
#: queues the job), so neither a request nor the sweep takes it for lost.
QUEUE_GRACE = dt.timedelta(seconds=10)
#: Attempts of one pull whose database connection is cut (RELIABILITY.md §3, recipe 3).
PULL_ATTEMPTS = 3
#: Jobs that ended because support stopped them: their run is closed, not queued again.
STOPPED_BY_HAND = (JobStatus.CANCELED, JobStatus.STOPPED)
_CLAIM = "claim:"
log = logging.getLogger(__name__)

# Replace (ARGV[2] non-empty, for ARGV[3] seconds) or delete the key only while it still holds
# ARGV[1]: a request or sweep never clears a flag another request has set meanwhile.
_SWAP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
"""


def pending_key(rt: Runtime, company_id: int) -> str:
    """The Redis flag naming the queued pull of this company (while one waits)."""
    return namespace.key(rt.install_id, "pull-pending", company_id)


def pull_job_id(rt: Runtime, company_id: int, run_id: int) -> str:
    """The RQ job id of a pull run (one job per run, under this install's id)."""
    return namespace.job_id(rt.install_id, "pull", company_id, run_id)


def request_pull(
    rt: Runtime,
    company_id: int,
    *,
    trigger: str = "manual",
    project_id: int | None = None,
    since: dt.date | None = None,
) -> int | None:
    """Queue a pull of the company's realm unless one is already waiting.

    A backfill (`since`) is never debounced: it re-reads more than a waiting pull would.

    Returns:
        The queued run's id, or None when a pull was already waiting (it will see the change).
    """
    flag = pending_key(rt, company_id)
    claim = f"{_CLAIM}{uuid.uuid4().hex}"
    if since is None and not _claim_flag(rt, company_id, flag, claim):
        return None
    try:
        with rt.sessions() as session:
            run = SyncRun(
                company_id=company_id,
                project_id=project_id,
                kind="pull",
                trigger=trigger,
                state=RunState.QUEUED,
            )
            session.add(run)
            session.commit()
            run_id = run.id
    except BaseException:
        if since is None:
            with contextlib.suppress(RedisError):  # else the claim runs out by itself
                _swap(rt, flag, claim, "")
        raise
    if since is None:
        _swap(rt, flag, claim, str(run_id), PENDING_TTL)
    if _queue(rt, company_id, run_id, project_id=project_id, since=since) is None:
        # A live job already holds this run's id (a restored database reusing run ids under
        # a Redis that still queues the old one): that job pulls this company into this run.
        log.warning("pull run %s of company %s: its job id is already queued", run_id, company_id)
    return run_id


def _queue(
    rt: Runtime,
    company_id: int,
    run_id: int,
    *,
    project_id: int | None,
    since: str | dt.date | None,
) -> Job | None:
    when = since.isoformat() if isinstance(since, dt.date) else since
    return queues.enqueue(
        rt.redis,
        queues.PULL,
        pull_job,
        job_id=pull_job_id(rt, company_id, run_id),
        kwargs={"company_id": company_id, "run_id": run_id, "since": when},
        meta={"company_id": company_id, "project_id": project_id, "kind": "pull"},
        retry=None,
    )


def _claim_flag(rt: Runtime, company_id: int, flag: str, claim: str) -> bool:
    """Take the company's flag for a new pull; False while it names a pull still waiting."""
    for _ in range(3):
        if rt.redis.set(flag, claim, nx=True, ex=CLAIM_TTL):
            return True
        held: Any = rt.redis.get(flag)
        if held is None:
            continue  # it ran out between the two calls
        if _stands(rt, company_id, held):
            return False
        _swap(rt, flag, held, "")  # its pull ended or was lost: this request queues anew
    return False


def _stands(rt: Runtime, company_id: int, held: bytes | str) -> bool:
    """Whether a flag's value names a pull that will still run: one a change can wait for.

    That is a request still writing its run (a claim, which runs out by itself), or a run still
    queued or running whose job Redis holds live (or that was queued a moment ago).
    """
    text = held.decode() if isinstance(held, bytes) else held
    if text.startswith(_CLAIM):
        return True
    try:
        run_id = int(text)
    except ValueError:
        return False
    with rt.sessions() as session:
        run = session.get(SyncRun, run_id)
        if (
            run is None
            or run.kind != "pull"
            or run.company_id != company_id
            or run.state not in (RunState.QUEUED, RunState.RUNNING)
        ):
            return False
        fresh = run.state == RunState.QUEUED and _aware(run.queued_at) > utcnow() - QUEUE_GRACE
    return fresh or queues.is_live(rt.redis, pull_job_id(rt, company_id, run_id))


def _swap(rt: Runtime, flag: str, expected: bytes | str, new: str, ttl: int = 0) -> bool:
    return bool(rt.redis.eval(_SWAP, 1, flag, expected, new, ttl))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def sweep_pulls(rt: Runtime) -> dict[str, int]:
    """Queue again every pull run waiting with no live job; clear flags that outlived theirs.

    A run queued less than `QUEUE_GRACE` ago is left alone (its request may still be queueing
    it); `unique=True` keeps a run that is queued twice at once to one job. A run whose job
    support cancelled (or stopped) is closed as skipped instead.

    Returns:
        `{"waiting": runs still queued, "queued": jobs queued again, "cancelled": runs closed,
        "flags_cleared": stale flags removed}`.
    """
    cutoff = utcnow() - QUEUE_GRACE
    with rt.sessions() as session:
        runs = session.scalars(
            select(SyncRun)
            .where(
                SyncRun.kind == "pull",
                SyncRun.state == RunState.QUEUED,
                SyncRun.queued_at < cutoff,
            )
            .order_by(SyncRun.id)
        ).all()
        queued = cancelled = 0
        for run in runs:
            job = _job(rt, pull_job_id(rt, run.company_id, run.id))
            status = job.get_status(refresh=False) if job is not None else None
            if status in queues.LIVE_STATES:
                continue
            if status in STOPPED_BY_HAND:
                run.state = RunState.SKIPPED
                run.finished_at = utcnow()
                run.message = "Cancelled from the queue before it ran."
                session.commit()
                metrics.sync_run_finished(run.kind, run.state)
                cancelled += 1
                continue
            # The job's own arguments when Redis still has them (a backfill keeps its date).
            since = job.kwargs.get("since") if job is not None else None
            if _queue(rt, run.company_id, run.id, project_id=run.project_id, since=since):
                queued += 1
                log.warning("pull run %s had no job in Redis; queued again", run.id)
        companies = list(session.scalars(select(Company.id).order_by(Company.id)))
    cleared = _clear_stale_flags(rt, companies)
    return {
        "waiting": len(runs),
        "queued": queued,
        "cancelled": cancelled,
        "flags_cleared": cleared,
    }


def _job(rt: Runtime, job_id: str) -> Job | None:
    try:
        return Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return None


def _clear_stale_flags(rt: Runtime, company_ids: list[int]) -> int:
    if not company_ids:
        return 0
    keys = [pending_key(rt, c) for c in company_ids]
    values: Any = rt.redis.mget(keys)
    cleared = 0
    for company_id, flag, held in zip(company_ids, keys, values, strict=True):
        if held is not None and not _stands(rt, company_id, held) and _swap(rt, flag, held, ""):
            cleared += 1
    return cleared


def pull_job(company_id: int, run_id: int, since: str | None = None) -> dict[str, Any]:
    """The RQ job: clear the debounce flag, pull (recording on the queued run), then files."""
    rt = runtime_mod.current()
    if since is None:
        # Only a flag naming this run: another run's flag still stands for that run.
        _swap(rt, pending_key(rt, company_id), str(run_id), "")
    progress = JobProgress(get_current_job())
    report = pull_retrying(
        rt,
        company_id,
        run_id=run_id,
        since=dt.date.fromisoformat(since) if since else None,
        progress=progress,
    )
    progress.save(report.records)
    body = report.as_json(changes=False)
    if report.state in (RunState.SUCCEEDED, RunState.PARTIAL):
        # Files attached in QBO to the records just written, where their plugins want them (no
        # request when none does); a record that failed to map has no new lines.
        files = pull_attachments(rt, company_id, run_id=run_id)
        body["attachments"] = files.as_json()
    return body


class JobProgress:
    """Records read so far, kept in the RQ job's meta as `progress` (the console shows it).

    Saved at most every `EVERY` seconds while the pull reads, and once at the end.
    """

    EVERY = 0.5

    def __init__(self, job: Job | None) -> None:
        """Report on `job` (None, outside a worker: nothing is saved)."""
        self.job = job
        self._saved_at = 0.0

    def __call__(self, records: int) -> None:
        """The engine's progress callback."""
        now = time.monotonic()
        if now - self._saved_at >= self.EVERY:
            self._saved_at = now
            self.save(records)

    def save(self, records: int) -> None:
        """Store `records` in the job's meta now."""
        if self.job is None:
            return
        self.job.meta["progress"] = records
        try:
            self.job.save_meta()  # type: ignore[no-untyped-call]
        except RedisError:
            log.warning("could not save the progress of job %s", self.job.id)


def pull_retrying(
    rt: Runtime,
    company_id: int,
    *,
    attempts: int = PULL_ATTEMPTS,
    sleep: Any = time.sleep,
    **kwargs: Any,
) -> PullReport:
    """`pull_company`, run again when PostgreSQL drops its connection mid-pull.

    The engine commits page by page and moves a cursor only after its writes committed, and the
    ledger is keyed by record and line, so a pull cut off halfway and run again from the
    cursors ends with every change applied once. The same run records every attempt.

    Raises:
        Exception: The connection was lost `attempts` times, or any other failure.
    """
    for attempt in range(1, attempts + 1):
        try:
            return pull_company(rt, company_id, **kwargs)
        except Exception as exc:
            if attempt == attempts or not _connection_lost(rt, exc):
                raise
            log.warning(
                "pull of company %s lost its database connection (attempt %s of %s); again",
                company_id,
                attempt,
                attempts,
            )
            sleep(0.5 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _connection_lost(rt: Runtime, exc: BaseException) -> bool:
    """A dropped or terminated connection, as SQLAlchemy or the driver itself reports it.

    The line writer's COPY talks to psycopg directly, so its errors arrive unwrapped.
    """
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    dbapi = rt.engine.dialect.loaded_dbapi
    return isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError)
