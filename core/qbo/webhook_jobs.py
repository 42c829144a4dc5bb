"""The old path of the webhook jobs, kept so jobs queued under it still run.

RQ stores a queued job's function as a dotted path; webhook and public-sweep jobs queued before
issue 19 name `core.qbo.webhook_jobs.*`. They now live in `core.jobs.webhook_jobs` (above both
`core.qbo` and `core.sync`). This alias is the one module of `core.qbo` allowed to import the job
layer (tests/test_import_graph.py); it may go once no queued, scheduled or failed job names it.
"""

from __future__ import annotations

from core.jobs.webhook_jobs import process_changes
from core.jobs.webhook_jobs import sweep_public

__all__ = ["process_changes", "sweep_public"]
