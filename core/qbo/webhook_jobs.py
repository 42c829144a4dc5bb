"""Old home of the webhook jobs, kept so jobs queued before the move still run.

RQ stores a job's function by dotted name: a `process_changes` or `sweep_public` job queued by
an older release names `core.qbo.webhook_jobs.*`. The jobs live in `core.jobs.webhooks` now and
nothing in costbridge imports this module; delete it one release after every worker runs the new
code and `costbridge queue info` shows no such job waiting or failed.
"""

from __future__ import annotations

from core.jobs.webhooks import process_changes
from core.jobs.webhooks import sweep_public

__all__ = ["process_changes", "sweep_public"]
