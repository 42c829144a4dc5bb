"""Home: QuickBooks connection per company, projects with their last sync, failed jobs."""

from __future__ import annotations

from typing import Any

from flask_admin import expose
from redis.exceptions import RedisError
from sqlalchemy import func
from sqlalchemy import select

from admin.auth import LocalIndexView
from admin.pages.common import db
from admin.pages.common import runtime
from admin.pages.queue import visible_job_counts
from admin.scope import of_visible
from admin.scope import visible
from core.jobs import board
from core.models import Company
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import RunState
from core.models import SyncRun

ATTENTION = (OutboxState.FAILED, OutboxState.NEEDS_ADMIN, OutboxState.BLOCKED)
#: Runs the dashboard lists under "Recent failures" (a partial pull left records out).
ATTENTION_RUNS = (RunState.FAILED, RunState.NEEDS_ADMIN, RunState.PARTIAL)


class HomeView(LocalIndexView):
    """The dashboard every role lands on."""

    @expose("/")
    def index(self) -> Any:
        """Companies, projects and the queue at a glance, each linking to where to act."""
        session = db()
        companies = session.scalars(
            of_visible(select(Company).order_by(Company.name), Company)
        ).all()
        projects = session.scalars(
            of_visible(select(Project).order_by(Project.name), Project)
        ).all()
        latest = of_visible(
            select(func.max(SyncRun.id))
            .where(SyncRun.kind == "pull")
            .group_by(SyncRun.company_id, SyncRun.project_id),
            SyncRun,
        )
        runs = session.scalars(select(SyncRun).where(SyncRun.id.in_(latest))).all()
        # A project's last pull: one asked for it, else the company's latest.
        by_project = {r.project_id: r for r in runs if r.project_id is not None}
        by_company: dict[int, SyncRun] = {}
        for r in runs:
            if r.company_id not in by_company or r.id > by_company[r.company_id].id:
                by_company[r.company_id] = r
        last = {
            p.id: max(
                (r for r in (by_project.get(p.id), by_company.get(p.company_id)) if r),
                key=lambda r: r.id,
                default=None,
            )
            for p in projects
        }
        failures = session.scalars(
            of_visible(
                select(SyncRun)
                .where(SyncRun.state.in_(ATTENTION_RUNS))
                .order_by(SyncRun.id.desc())
                .limit(10),
                SyncRun,
            )
        ).all()
        waiting = session.scalar(
            of_visible(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.state.in_(ATTENTION)),
                OutboxEntry,
            )
        )
        try:
            queue_counts: dict[str, int] | None = (
                board.counts(runtime().redis)
                if visible() is None
                else visible_job_counts(runtime().redis, session)
            )
        except RedisError:
            queue_counts = None
        return self.render(
            "costbridge/home.html",
            companies=companies,
            projects=projects,
            last=last,
            failures=failures,
            waiting=waiting or 0,
            queue_counts=queue_counts,
        )
