"""Support's queue view and the sync log: RQ's registries joined with our sync runs."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import expose
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.auth import LocalBaseView
from admin.auth import require
from admin.pages.common import db
from admin.pages.common import runtime
from admin.pages.common import visible_row
from admin.scope import may_see
from admin.scope import of_visible
from admin.scope import visible
from core.errors import CostbridgeError
from core.jobs import board
from core.models import Company
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import Role
from core.models import SyncRun
from core.push import causes
from core.push import outbox
from core.push.queueing import enqueue_recorded
from core.web.ids import optional_id

LOG_ROWS = 200


def job_company(session: Session, row: board.JobRow) -> int | None:
    """The company a job works for: its own, its sync run's, its project's or its realm's.

    None for an install-wide job (the sweepers), which only users of every company see.
    """
    if isinstance(row.company_id, int):
        return row.company_id
    if row.run is not None:
        return row.run.company_id
    if isinstance(row.project_id, int):
        return session.scalar(select(Project.company_id).where(Project.id == row.project_id))
    realm = (row.kwargs or {}).get("realm_id")
    if isinstance(realm, str):
        return session.scalar(select(Company.id).where(Company.realm_id == realm))
    return None


def visible_jobs(redis: Redis, state: str, session: Session) -> list[board.JobRow]:
    """One state's jobs the user may see (`admin.scope`)."""
    rows = board.jobs(redis, state, session)
    if visible() is None:
        return rows
    return [r for r in rows if may_see(job_company(session, r))]


def visible_job_counts(redis: Redis, session: Session) -> dict[str, int]:
    """How many jobs of each state the user may see (of the newest `board.LIMIT` per queue)."""
    return {state: len(visible_jobs(redis, state, session)) for state in board.STATES}


def _visible_job_ids(session: Session, state: str, wanted: list[str]) -> list[str]:
    """`wanted` job ids, each one of a job of `state` the user may see; else 404."""
    if visible() is None:
        return wanted
    seen = {r.id for r in visible_jobs(runtime().redis, state, session)}
    if any(job_id not in seen for job_id in wanted):
        abort(404)
    return wanted


class QueueView(LocalBaseView):
    """Jobs by state, failures by root cause, retry one, a group or all, cancel."""

    @expose("/")
    def index(self) -> Any:
        """One state's jobs (failed first: that is what support comes for)."""
        state = request.args.get("state", "failed")
        if state not in board.STATES:
            state = "failed"
        redis = runtime().redis
        session = db()
        try:
            counts = (
                board.counts(redis) if visible() is None else visible_job_counts(redis, session)
            )
            rows = visible_jobs(redis, state, session)
        except RedisError:
            return self.render("costbridge/queue.html", down=True, state=state)
        groups = board.failure_groups(rows) if state == "failed" else []
        project_ids = {r.project_id for r in rows if r.project_id}
        names = (
            {
                pid: name
                for pid, name in session.execute(
                    select(Project.id, Project.name).where(Project.id.in_(project_ids))
                )
            }
            if project_ids
            else {}
        )
        return self.render(
            "costbridge/queue.html",
            down=False,
            state=state,
            counts=counts,
            rows=rows,
            groups=groups,
            names=names,
        )

    @expose("/retry", methods=("POST",))
    @require(Role.SUPPORT)
    def retry(self) -> Any:
        """Retry the failed jobs named in the form (one, or a root-cause group)."""
        ids = request.form.getlist("job_id")
        try:
            n = board.retry_many(runtime().redis, _visible_job_ids(db(), "failed", ids))
        except board.MalformedJobId:
            abort(404)
        flash(f"{n} job(s) put back on the queue." if n else "No failed job to retry.", "success")
        return redirect(url_for(".index", state="failed"))

    @expose("/retry-all", methods=("POST",))
    @require(Role.SUPPORT)
    def retry_all(self) -> Any:
        """Retry every failed job (a limited user: every failed job they may see)."""
        if visible() is None:
            n = board.retry_all_failed(runtime().redis)
        else:
            mine = [r.id for r in visible_jobs(runtime().redis, "failed", db())]
            n = board.retry_many(runtime().redis, mine)
        flash(f"{n} failed job(s) put back on the queue.", "success")
        return redirect(url_for(".index", state="failed"))

    @expose("/cancel", methods=("POST",))
    @require(Role.SUPPORT)
    def cancel(self) -> Any:
        """Cancel a queued or scheduled job."""
        job_id = request.form.get("job_id", "")
        try:
            board.check_job_id(job_id)
        except board.MalformedJobId:
            abort(404)
        if visible() is not None:
            session = db()
            seen = {
                r.id
                for state in ("queued", "scheduled")
                for r in visible_jobs(runtime().redis, state, session)
            }
            if job_id not in seen:
                abort(404)
        ok = board.cancel(runtime().redis, job_id)
        flash(f"Job {job_id} cancelled." if ok else f"Job {job_id} could not be cancelled.")
        return redirect(url_for(".index", state=request.form.get("state", "queued")))


class SyncLogView(LocalBaseView):
    """Every sync run: what ran, when, its counts, and what it said."""

    @expose("/")
    def index(self) -> Any:
        """The newest runs, or one run with its full explanation."""
        session = db()
        one = optional_id(request.args.get("run"))
        query = select(SyncRun).order_by(SyncRun.id.desc()).limit(LOG_ROWS)
        if one:
            query = select(SyncRun).where(SyncRun.id == one)
        project_id = optional_id(request.args.get("project_id"))
        if project_id:
            query = query.where(SyncRun.project_id == project_id)
        runs = session.scalars(of_visible(query, SyncRun)).all()
        if one and not runs:
            abort(404)
        return self.render("costbridge/synclog.html", runs=runs, one=one)


class OutboxView(LocalBaseView):
    """Changes waiting to be sent to QuickBooks: why not yet, retry, cancel."""

    @expose("/")
    def index(self) -> Any:
        """Outbox rows in one state (default: the ones needing someone), failures by cause."""
        state = request.args.get("state", "failed")
        states = [s.value for s in OutboxState]
        session = db()
        shown = visible()
        wanted = state if state in states else None
        if shown is None:
            rows = outbox.list_outbox(session, state=wanted)
        else:
            mine = [
                r for c in shown for r in outbox.list_outbox(session, state=wanted, company_id=c)
            ]
            rows = sorted(mine, key=lambda r: -r.id)[:500]
        groups = causes.failure_causes(session, company_ids=shown)
        return self.render(
            "costbridge/outbox.html",
            rows=rows,
            state=state,
            states=states,
            groups=groups,
            cause_of=causes.by_row(groups),
        )

    @expose("/retry-group", methods=("POST",))
    @require(Role.SUPPORT)
    def retry_group(self) -> Any:
        """Send every change of one cause again, after the fix (each under a new requestid)."""
        session = db()
        try:
            again = causes.resend_group(
                session, request.form.get("group", ""), company_ids=visible()
            )
        except CostbridgeError as exc:
            session.rollback()
            flash(f"{exc.message} {exc.fix}".strip(), "error")
        else:
            session.commit()
            queued = enqueue_recorded(runtime(), again)
            flash(f"{len(again)} change(s) will be sent again ({queued} job(s) queued).", "success")
        return redirect(url_for(".index", state=request.form.get("state", "failed")))

    @expose("/retry", methods=("POST",))
    @require(Role.SUPPORT)
    def retry(self) -> Any:
        """Send the chosen rows again (or every failed one with `all`)."""
        session = db()
        if request.form.get("all"):
            ids = visible()
            if ids is None:
                again = outbox.retry_failed(session)
            else:
                again = [r for c in ids for r in outbox.retry_failed(session, company_id=c)]
        else:
            again = outbox.retry(
                session,
                [visible_row(OutboxEntry, i).id for i in request.form.getlist("id")],
            )
        session.commit()
        queued = enqueue_recorded(runtime(), again)
        flash(f"{len(again)} change(s) will be sent again ({queued} job(s) queued).", "success")
        return redirect(url_for(".index", state=request.form.get("state", "failed")))

    @expose("/cancel", methods=("POST",))
    @require(Role.SUPPORT)
    def cancel(self) -> Any:
        """Never send one row."""
        session = db()
        try:
            outbox.cancel(session, visible_row(OutboxEntry, request.form.get("id")).id)
        except CostbridgeError as exc:
            session.rollback()
            flash(f"{exc.message} {exc.fix}".strip(), "error")
        else:
            session.commit()
            flash("Cancelled: that change will not be sent.", "success")
        return redirect(url_for(".index", state=request.form.get("state", "failed")))
