"""Push job entry points: each builds the runtime, says which job execution it is, and calls
`core.push`, where delivery lives (`core.push.run`, `core.push.queueing`).

Queued jobs name these functions by dotted path (`core.jobs.push_jobs.push_outbox`); the old
path `core.jobs.tasks.*` still resolves (`core.jobs.tasks`), so jobs queued before an upgrade
run after it.
"""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from core import runtime as runtime_mod
from core.push import queueing
from core.push.run import deliver_row
from core.push.settle import Execution
from core.sync.jobs import sweep_pulls


def push_outbox(outbox_id: int, run_id: int) -> dict[str, Any]:
    """Deliver one outbox row (and, for a fresh create, up to 29 more in one QBO batch).

    Args:
        outbox_id: The `OutboxEntry` to deliver.
        run_id: The `SyncRun` recording this delivery.

    Returns:
        A JSON-safe summary (RQ keeps it as the job result).
    """
    return deliver_row(runtime_mod.current(), outbox_id, run_id, current_execution())


def sweep_outbox() -> dict[str, int]:
    """Re-enqueue every push Redis may have lost or a dead worker held (`queueing.sweep_outbox`)."""
    return queueing.sweep_outbox(runtime_mod.current())


def sweep() -> dict[str, dict[str, int]]:
    """The maintenance sweep workers queue: pushes, then pulls, that Redis no longer holds.

    Within one sweep every outbox row waiting to be sent and every pull run still queued gets a
    live job again, and every pull flag that outlived its pull is cleared.
    """
    rt = runtime_mod.current()
    return {"outbox": queueing.sweep_outbox(rt), "pulls": sweep_pulls(rt)}


def current_execution() -> Execution:
    """The RQ job running now, as `core.push` needs to know it (an empty one outside a job)."""
    job = get_current_job()
    if job is None:
        return Execution()

    def on_run(run_id: int) -> None:
        job.meta["run_id"] = run_id
        job.save_meta()  # type: ignore[no-untyped-call]

    return Execution(job_id=job.id, retries_left=job.retries_left or 0, on_run=on_run)
