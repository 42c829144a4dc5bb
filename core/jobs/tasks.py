"""The old home of the push jobs, kept so jobs queued under these dotted paths still run.

RQ stores each queued job's function as a dotted path, and before issue 19 push and sweep jobs
were queued as `core.jobs.tasks.push_outbox`, `core.jobs.tasks.sweep` and
`core.jobs.tasks.sweep_outbox`. New jobs name `core.jobs.push_jobs.*`; jobs still in Redis
(queued, scheduled for a retry, or failed and requeued by support) resolve here to the same
functions. Delivery itself lives in `core.push`.

Deploying: workers of the new release run both names, so no draining is needed before the
upgrade. This module may go once no job names it any more: nothing queued, scheduled or failed
under `core.jobs.tasks.*` on any install's queues (scheduled retries wait up to 10 minutes,
failed jobs are kept 30 days), or once the sweeper has re-queued every open outbox row under
the new name.
"""

from __future__ import annotations

from core.jobs.push_jobs import push_outbox
from core.jobs.push_jobs import sweep
from core.jobs.push_jobs import sweep_outbox
from core.push.queueing import enqueue_push
from core.push.queueing import enqueue_recorded
from core.push.queueing import push_job_id
from core.push.queueing import resume_company

__all__ = [
    "enqueue_push",
    "enqueue_recorded",
    "push_job_id",
    "push_outbox",
    "resume_company",
    "sweep",
    "sweep_outbox",
]
