"""The webhook jobs in `core.jobs.webhooks`, and their old dotted names for jobs queued before."""

from __future__ import annotations

from typing import Any

import pytest
from rq import SimpleWorker
from rq.job import JobStatus
from rq.serializers import JSONSerializer

from core.jobs import queues
from core.jobs import webhooks
from core.runtime import Runtime

#: A realm no company has: the job records nothing and says so.
STRANGER = "9130350000000999"


@pytest.mark.parametrize(
    ("old_name", "queue_name", "kwargs"),
    [
        (
            "core.qbo.webhook_jobs.process_changes",
            queues.WEBHOOKS,
            {"realm_id": STRANGER, "changes": [], "inbox_ids": []},
        ),
        ("core.qbo.webhook_jobs.sweep_public", queues.MAINTENANCE, {}),
    ],
)
def test_a_job_queued_under_its_old_name_still_runs(
    runtime: Runtime, redis_conn: Any, old_name: str, queue_name: str, kwargs: dict[str, Any]
) -> None:
    # An older release queued these names; RQ imports them by name when a worker takes the job.
    job = queues.queue(queue_name, runtime.redis).enqueue_call(old_name, kwargs=kwargs)
    SimpleWorker(
        [queues.queue(queue_name, runtime.redis)],
        connection=runtime.redis,
        serializer=JSONSerializer,
    ).work(burst=True)
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert isinstance(job.return_value(), dict)


def test_new_jobs_are_queued_under_the_new_name(runtime: Runtime, redis_conn: Any) -> None:
    job = queues.enqueue(
        runtime.redis,
        queues.WEBHOOKS,
        webhooks.process_changes,
        job_id=webhooks.job_id_for(runtime, STRANGER, [1]),
        kwargs={"realm_id": STRANGER, "changes": [], "inbox_ids": []},
    )
    assert job is not None
    assert job.func_name == "core.jobs.webhooks.process_changes"


def test_a_change_for_a_realm_no_company_has_is_skipped(runtime: Runtime) -> None:
    assert webhooks.process_changes(STRANGER, [], []) == {"skipped": "no company has this realm"}
