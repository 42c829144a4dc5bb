"""Pull jobs: queued on demand or by webhooks, debounced per company (many webhooks, one pull).

`request_pull` sets a short-lived Redis flag before it queues; while the flag stands, further
requests add nothing. The job clears the flag as it starts, so a change reported during a pull
queues one more pull after it. Job arguments are ids only.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from redis.exceptions import RedisError
from rq import get_current_job
from rq.job import Job
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError

from core import runtime as runtime_mod
from core.jobs import queues
from core.models import RunState
from core.models import SyncRun
from core.runtime import Runtime
from core.sync.attachments import pull_bill_attachments
from core.sync.engine import PullReport
from core.sync.engine import pull_company

#: How long a queued pull holds the flag at most (a lost job frees it by itself).
PENDING_TTL = 600
#: Attempts of one pull whose database connection is cut (RELIABILITY.md §3, recipe 3).
PULL_ATTEMPTS = 3
log = logging.getLogger(__name__)


def pending_key(company_id: int) -> str:
    """The Redis flag saying a pull of this company is queued and not yet started."""
    return f"costbridge:pull-pending:{company_id}"


def request_pull(
    rt: Runtime,
    company_id: int,
    *,
    trigger: str = "manual",
    project_id: int | None = None,
    since: dt.date | None = None,
) -> int | None:
    """Queue a pull of the company's realm unless one is already waiting.

    Returns:
        The queued run's id, or None when a pull was already waiting (it will see the change).
    """
    if since is None and not rt.redis.set(
        pending_key(company_id), trigger, nx=True, ex=PENDING_TTL
    ):
        return None
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
    queues.enqueue(
        rt.redis,
        queues.PULL,
        pull_job,
        job_id=f"pull-{company_id}-{run_id}",
        kwargs={
            "company_id": company_id,
            "run_id": run_id,
            "since": since.isoformat() if since else None,
        },
        meta={"company_id": company_id, "project_id": project_id, "kind": "pull"},
        retry=None,
    )
    return run_id


def pull_job(company_id: int, run_id: int, since: str | None = None) -> dict[str, Any]:
    """The RQ job: clear the debounce flag, pull (recording on the queued run), then files."""
    rt = runtime_mod.current()
    if since is None:
        rt.redis.delete(pending_key(company_id))
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
        # Files of the projects' bills, from the actuals just written (no request when no
        # project has "pull bill attachments" on); a record that failed to map has no new lines.
        files = pull_bill_attachments(rt, company_id, run_id=run_id)
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
