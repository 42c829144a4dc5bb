"""Pull jobs: queued on demand or by webhooks, debounced per company (many webhooks, one pull).

`request_pull` sets a short-lived Redis flag before it queues; while the flag stands, further
requests add nothing. The job clears the flag as it starts, so a change reported during a pull
queues one more pull after it. Job arguments are ids only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import runtime as runtime_mod
from core.jobs import queues
from core.models import RunState
from core.models import SyncRun
from core.runtime import Runtime
from core.sync.engine import pull_company

#: How long a queued pull holds the flag at most (a lost job frees it by itself).
PENDING_TTL = 600


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
    """The RQ job: clear the debounce flag, then pull (recording on the queued run)."""
    rt = runtime_mod.current()
    if since is None:
        rt.redis.delete(pending_key(company_id))
    report = pull_company(
        rt,
        company_id,
        run_id=run_id,
        since=dt.date.fromisoformat(since) if since else None,
    )
    return report.as_json(changes=False)
