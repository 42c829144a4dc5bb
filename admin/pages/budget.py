"""The Budget tab: lines, chart, Applied Actuals pop-up, Sync Expenses, preview, checks.

Every figure comes from `core.sync.reports` (budget, doctor, reconcile), the pull from
`core.sync.jobs.request_pull` (queued) or `core.sync.engine.pull_company` (dry run); budget lines
are saved by `core.budgets` (the grid, the CSV import) and the history read by `core.history`;
this module only reads requests and renders.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import partial
from typing import Any

from flask import abort
from flask import flash
from flask import jsonify
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import expose
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from admin.auth import LocalBaseView
from admin.auth import require
from admin.pages.budget_edit import BudgetEditing
from admin.pages.common import PerProject
from admin.pages.common import db
from admin.pages.common import project_from_request
from admin.pages.common import qbo_client
from admin.pages.common import runtime
from admin.pages.common import visible_row
from core.budgets import budget_grid
from core.errors import CostbridgeError
from core.models import Actual
from core.models import Attachment
from core.models import Company
from core.models import CostCode
from core.models import Project
from core.models import Role
from core.models import RunState
from core.models import SyncRun
from core.plugins import actual_type_label
from core.sync.doctor import doctor
from core.sync.engine import pull_company
from core.sync.jobs import pull_job_id
from core.sync.jobs import request_pull
from core.sync.reports import budget
from core.sync.reports import reconcile
from core.web.ids import optional_id
from core.web.ids import required_id

#: Lines the pop-up lists at once (the rest are counted and reached by searching).
POPUP_ROWS = 100
CHART_ROWS = 30
FINISHED = (RunState.SUCCEEDED, RunState.PARTIAL, RunState.FAILED, RunState.NEEDS_ADMIN)
log = logging.getLogger(__name__)


def label(code: str, name: str) -> str:
    """A cost code as people read it (an item imported as its own code is not named twice)."""
    return name if name.startswith(code) else f"{code} {name}"


def chart(report: Any) -> dict[str, Any]:
    """Bar widths (percent of the largest figure) of budget and actual per cost code."""
    rows = [r for r in report.lines if r.budgeted or r.actual][:CHART_ROWS]
    top = max([abs(r.budgeted) for r in rows] + [abs(r.actual) for r in rows] + [Decimal(1)])
    return {
        "rows": [
            {
                "label": label(r.code, r.name),
                "budget": float(abs(r.budgeted) / top * 100),
                "actual": float(abs(r.actual) / top * 100),
                "over": r.actual > r.budgeted,
                "budgeted": r.budgeted,
                "spent": r.actual,
            }
            for r in rows
        ],
        "height": 26 * len(rows) + 30,
    }


def _code_filter(raw: str | None, project: Project) -> tuple[ColumnElement[bool] | None, str]:
    """The cost-code condition of the pop-up and its title (`uncoded` is the Uncoded row).

    Any other value is the id of one of the project's company's cost codes, or 404.
    """
    if raw in (None, "", "all"):
        return None, "All cost codes"
    if raw == "uncoded":
        return Actual.cost_code_id.is_(None), "Uncoded"
    code = db().get(CostCode, required_id(raw))
    if code is None or code.company_id != project.company_id:
        abort(404, "This project's company has no such cost code.")
    return Actual.cost_code_id == code.id, code.label


def _search(q: str) -> ColumnElement[bool] | None:
    q = q.strip()
    if not q:
        return None
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(
        Actual.payee.ilike(like, escape="\\"),
        Actual.doc_number.ilike(like, escape="\\"),
        Actual.description.ilike(like, escape="\\"),
        Actual.item_name.ilike(like, escape="\\"),
        Actual.account_name.ilike(like, escape="\\"),
        Actual.qbo_id == q,
    )


class BudgetView(BudgetEditing, PerProject, LocalBaseView):
    """A project's budget against its QuickBooks actuals."""

    @expose("/")
    def index(self) -> Any:
        """Budget lines (an editable grid for an admin), the chart, Sync Expenses, the last pull."""
        return self.budget_page(project_from_request())

    def budget_page(
        self,
        project: Project,
        typed: dict[str, tuple[str, str]] | None = None,
        errors: dict[str, str] | None = None,
    ) -> Any:
        """The budget page; after a refused save, with what was typed and what is wrong."""
        session = db()
        report = budget(session, project)
        last = session.scalars(
            select(SyncRun)
            .where(
                SyncRun.company_id == project.company_id,
                SyncRun.kind == "pull",
                or_(SyncRun.project_id.is_(None), SyncRun.project_id == project.id),
            )
            .order_by(SyncRun.id.desc())
            .limit(1)
        ).first()
        watch = optional_id(request.args.get("run"))
        if watch is None and last is not None and last.state not in FINISHED:
            watch = last.id
        return self.render(
            "costbridge/budget.html",
            project=project,
            report=report,
            chart=chart(report),
            last=last,
            watch=watch,
            grid=budget_grid(session, project, report),
            can_edit=self.can_edit_budget(),
            typed=typed or {},
            errors=errors or {},
        )

    @expose("/actuals")
    def actuals(self) -> Any:
        """The Applied Actuals pop-up of one budget line: counting lines, then excluded ones."""
        project = project_from_request()
        where_code, title = _code_filter(request.args.get("cost_code"), project)
        q = request.args.get("q", "")
        found = _search(q)
        extra = [c for c in (where_code, found) if c is not None]
        session = db()
        counted_where = [Actual.project_id == project.id, Actual.excluded_reason.is_(None), *extra]
        excluded_where = [
            Actual.project_id == project.id,
            Actual.excluded_reason.is_not(None),
            *extra,
        ]
        newest = (Actual.txn_date.desc(), Actual.id.desc())
        if found is None:
            # Lines come newest first off the partial index; the totals from its included
            # amounts (index-only once vacuumed): two cheap queries.
            counted = session.scalars(
                select(Actual).where(*counted_where).order_by(*newest).limit(POPUP_ROWS)
            ).all()
            total, n = session.execute(
                select(func.sum(Actual.amount), func.count()).where(*counted_where)
            ).one()
        else:
            # A search reads every line of the project once: rows and totals in that one pass.
            rows = session.execute(
                select(Actual, func.count().over(), func.sum(Actual.amount).over())
                .where(*counted_where)
                .order_by(*newest)
                .limit(POPUP_ROWS)
            ).all()
            counted = [row[0] for row in rows]
            n, total = (rows[0][1], rows[0][2]) if rows else (0, Decimal("0.00"))
        excluded = session.scalars(
            select(Actual)
            .where(*excluded_where)
            .order_by(Actual.txn_date.desc(), Actual.id.desc())
            .limit(POPUP_ROWS)
        ).all()
        n_excluded = session.scalar(select(func.count()).where(*excluded_where))
        ids = [a.id for a in (*counted, *excluded)]
        files: dict[int, list[Attachment]] = {}
        if ids:
            for att in session.scalars(select(Attachment).where(Attachment.actual_id.in_(ids))):
                files.setdefault(att.actual_id or 0, []).append(att)
        return self.render(
            "costbridge/actuals_popup.html",
            project=project,
            title=title,
            q=q,
            cost_code=request.args.get("cost_code", ""),
            counted=counted,
            n_counted=n or 0,
            total=total or Decimal("0.00"),
            excluded=excluded,
            n_excluded=n_excluded or 0,
            files=files,
            limit=POPUP_ROWS,
            type_label=partial(actual_type_label, runtime().pm),
        )

    @expose("/sync", methods=("POST",))
    @require(Role.SUPPORT)
    def sync(self) -> Any:
        """Sync Expenses: queue a pull of the project's company and watch it."""
        project = project_from_request()
        rt = runtime()
        try:
            run_id = request_pull(rt, project.company_id, trigger="manual", project_id=project.id)
        except RedisError:
            flash("The job queue (Redis) does not answer, so nothing was queued.", "error")
            return redirect(url_for(".index", project_id=project.id))
        if run_id is None:
            flash("A pull of this company is already waiting; it will bring these costs too.")
            waiting = db().scalar(
                select(SyncRun.id)
                .where(SyncRun.company_id == project.company_id, SyncRun.kind == "pull")
                .order_by(SyncRun.id.desc())
                .limit(1)
            )
            return redirect(url_for(".index", project_id=project.id, run=waiting))
        return redirect(url_for(".index", project_id=project.id, run=run_id))

    @expose("/run")
    def run(self) -> Any:
        """A sync run's progress as JSON (the page polls it while the pull runs)."""
        run = visible_row(SyncRun, request.args.get("id"))
        progress = None
        if run.job_id or run.state == RunState.QUEUED:
            try:
                job = Job.fetch(
                    run.job_id or pull_job_id(runtime(), run.company_id, run.id),
                    connection=runtime().redis,
                    serializer=JSONSerializer,
                )
                progress = job.meta.get("progress")
            except NoSuchJobError:
                progress = None  # finished and cleaned up, or not queued yet
            except RedisError as exc:
                log.warning("progress of run %s not shown: Redis (%s)", run.id, type(exc).__name__)
                progress = None
        return jsonify(
            {
                "id": run.id,
                "state": run.state.value,
                "finished": run.state in FINISHED,
                "message": run.message,
                "fix": run.fix,
                "counts": run.counts or {},
                "progress": progress,
            }
        )

    @expose("/preview", methods=("POST",))
    @require(Role.SUPPORT)
    def preview(self) -> Any:
        """Dry run: what a pull would add, change and remove for this project; writes nothing."""
        project = project_from_request()
        report = pull_company(runtime(), project.company_id, dry_run=True, project_id=project.id)
        body = report.as_json(project_id=project.id)
        return self.render(
            "costbridge/preview.html",
            project=project,
            report=body,
            changes=body.get("changes", [])[:500],
        )

    @expose("/reconcile", methods=("POST",))
    @require(Role.SUPPORT)
    def reconcile_view(self) -> Any:
        """Compare the stored actuals with QuickBooks now (reads QBO; writes nothing)."""
        project = project_from_request()
        session = db()
        company = session.get(Company, project.company_id)
        assert company is not None
        try:
            result = reconcile(session, runtime().pm, project, company, qbo_client(company))
        except CostbridgeError as exc:
            flash(f"{exc.message} {exc.fix}", "error")
            return redirect(url_for(".index", project_id=project.id))
        return self.render(
            "costbridge/reconcile.html",
            project=project,
            result=result,
            type_label=partial(actual_type_label, runtime().pm),
        )

    @expose("/doctor")
    def doctor_view(self) -> Any:
        """Every reason found why the project's costs did not arrive, with the fix."""
        project: Project = project_from_request()
        session = db()
        company = session.get(Company, project.company_id)
        assert company is not None
        findings = doctor(session, runtime().pm, project, company)
        return self.render("costbridge/doctor.html", project=project, findings=findings)
