"""Support's queue view and the sync log: RQ's registries joined with our sync runs."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import expose
from redis.exceptions import RedisError
from sqlalchemy import select

from admin.auth import LocalBaseView
from admin.auth import require
from admin.pages.common import db
from admin.pages.common import runtime
from core.errors import CostbridgeError
from core.jobs import board
from core.models import OutboxState
from core.models import Project
from core.models import Role
from core.models import SyncRun
from core.push import outbox
from core.push.queueing import enqueue_recorded
from core.web.ids import optional_id
from core.web.ids import required_id

LOG_ROWS = 200


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
            counts = board.counts(redis)
            rows = board.jobs(redis, state, session)
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
            n = board.retry_many(runtime().redis, ids)
        except board.MalformedJobId:
            abort(404)
        flash(f"{n} job(s) put back on the queue." if n else "No failed job to retry.", "success")
        return redirect(url_for(".index", state="failed"))

    @expose("/retry-all", methods=("POST",))
    @require(Role.SUPPORT)
    def retry_all(self) -> Any:
        """Retry every failed job."""
        n = board.retry_all_failed(runtime().redis)
        flash(f"{n} failed job(s) put back on the queue.", "success")
        return redirect(url_for(".index", state="failed"))

    @expose("/cancel", methods=("POST",))
    @require(Role.SUPPORT)
    def cancel(self) -> Any:
        """Cancel a queued or scheduled job."""
        job_id = request.form.get("job_id", "")
        try:
            ok = board.cancel(runtime().redis, job_id)
        except board.MalformedJobId:
            abort(404)
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
        runs = session.scalars(query).all()
        return self.render("costbridge/synclog.html", runs=runs, one=one)


class OutboxView(LocalBaseView):
    """Changes waiting to be sent to QuickBooks: why not yet, retry, cancel."""

    @expose("/")
    def index(self) -> Any:
        """Outbox rows in one state (default: the ones needing someone)."""
        state = request.args.get("state", "failed")
        states = [s.value for s in OutboxState]
        rows = outbox.list_outbox(db(), state=state if state in states else None)
        return self.render("costbridge/outbox.html", rows=rows, state=state, states=states)

    @expose("/retry", methods=("POST",))
    @require(Role.SUPPORT)
    def retry(self) -> Any:
        """Send the chosen rows again (or every failed one with `all`)."""
        session = db()
        if request.form.get("all"):
            again = outbox.retry_failed(session)
        else:
            again = outbox.retry(session, [required_id(i) for i in request.form.getlist("id")])
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
            outbox.cancel(session, required_id(request.form.get("id")))
        except CostbridgeError as exc:
            session.rollback()
            flash(f"{exc.message} {exc.fix}".strip(), "error")
        else:
            session.commit()
            flash("Cancelled: that change will not be sent.", "success")
        return redirect(url_for(".index", state=request.form.get("state", "failed")))
