"""The budget page's editing: the grid's Save, the CSV import (preview, then confirm), History.

Every write goes through `core.budgets` (`apply_budget`, `apply_confirmed`), as the CLI's do;
this module reads the form, renders, and carries an import's rows from its preview to its
confirmation signed with the app's secret key, so what is saved is exactly what was shown (and
`apply_confirmed` refuses if the budget changed meanwhile).
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import expose
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from admin.auth import actor
from admin.auth import has_role
from admin.auth import require
from admin.pages.common import db
from admin.pages.common import project_from_request
from core.budget_import import MAX_IMPORT_BYTES
from core.budget_import import entries_from_json
from core.budget_import import entries_json
from core.budget_import import read_csv
from core.budgets import BudgetPlan
from core.budgets import apply_budget
from core.budgets import apply_confirmed
from core.budgets import typed_entries
from core.errors import CostbridgeError
from core.history import project_history
from core.models import Project
from core.models import Role

#: The grid's amount fields: `amount-<cost code id>` or `amount-uncoded`.
AMOUNT_FIELD = re.compile(r"^amount-(\d{1,18}|uncoded)$")
#: How long a preview can be confirmed (seconds).
PREVIEW_MAX_AGE = 3600
#: Who may change a budget.
EDIT_ROLE = Role.ADMIN


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="costbridge-budget-import")


def _code_id(key: str) -> int | None:
    return None if key == "uncoded" else int(key)


def _summary(plan: BudgetPlan) -> str:
    counts = plan.counts
    return (
        f"{counts.get('add', 0)} line(s) added, {counts.get('change', 0)} changed, "
        f"{counts.get('unchanged', 0)} unchanged"
    )


class BudgetEditing:
    """The budget view's editing pages (mixed into `admin.pages.budget.BudgetView`)."""

    render: Any
    budget_page: Any

    def can_edit_budget(self) -> bool:
        """Whether the signed-in user may change budget lines."""
        return has_role(EDIT_ROLE)

    @expose("/save", methods=("POST",))
    @require(EDIT_ROLE)
    def save(self) -> Any:
        """The grid's Save: the rows whose amount or description was changed on the page."""
        project = project_from_request()
        form = request.form
        typed: dict[str, tuple[str, str]] = {}
        wanted: dict[int | None, tuple[str, str | None]] = {}
        keys: dict[int | None, str] = {}
        for name in form:
            match = AMOUNT_FIELD.match(name)
            if not match:
                continue
            key = match.group(1)
            amount = form.get(name, "").strip()
            description = form.get(f"description-{key}", "").strip()
            typed[key] = (amount, description)
            was_amount = form.get(f"was-amount-{key}", "").strip()
            was_description = form.get(f"was-description-{key}", "").strip()
            if amount == was_amount and description == was_description:
                continue  # not touched here: a change saved meanwhile by someone else stays
            code_id = _code_id(key)
            keys[code_id] = key
            wanted[code_id] = (
                amount,
                description if description != was_description else None,
            )
        entries, problems = typed_entries(wanted)
        session = db()
        if problems:
            flash("Nothing was saved: some amounts are not numbers. Fix them and save.", "error")
            errors = {keys[code_id]: words for code_id, words in problems.items()}
            return self.budget_page(project, typed=typed, errors=errors)
        try:
            plan = apply_budget(session, project, entries, source="console", changed_by=actor())
        except CostbridgeError as exc:
            session.rollback()
            flash(f"Nothing was saved: {exc.message} {exc.fix}", "error")
            return self.budget_page(project, typed=typed)
        session.commit()
        flash(f"Budget saved: {_summary(plan)}.", "success")
        return redirect(url_for(".index", project_id=project.id))

    @expose("/import", methods=("POST",))
    @require(EDIT_ROLE)
    def import_preview(self) -> Any:
        """Upload a CSV: show what it would change and each wrong row; nothing is saved."""
        project = project_from_request()
        back = redirect(url_for(".index", project_id=project.id))
        length = request.content_length
        if length is not None and length > MAX_IMPORT_BYTES + 64 * 1024:
            flash(
                f"The file is too large: a budget import reads up to {MAX_IMPORT_BYTES:,} bytes. "
                "Export only the cost codes and their amounts.",
                "error",
            )
            return back
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a CSV file to import.", "error")
            return back
        data = upload.stream.read(MAX_IMPORT_BYTES + 1)
        session = db()
        try:
            plan = read_csv(session, project, data)
        except CostbridgeError as exc:
            flash(f"{exc.message} {exc.fix}", "error")
            return back
        token = _signer().dumps(
            {
                "project": project.id,
                "entries": entries_json(plan.entries),
                "fingerprint": plan.fingerprint,
            }
        )
        return self.render(
            "costbridge/budget_import.html",
            project=project,
            plan=plan,
            file_name=upload.filename,
            token=token if plan.ok else None,
        )

    @expose("/import/confirm", methods=("POST",))
    @require(EDIT_ROLE)
    def import_confirm(self) -> Any:
        """Save the rows of the preview the admin confirmed, if the budget did not change since."""
        project = project_from_request()
        back = redirect(url_for(".index", project_id=project.id))
        try:
            body = _signer().loads(request.form.get("token", ""), max_age=PREVIEW_MAX_AGE)
        except BadSignature:
            flash(
                "This preview is too old or was altered, so nothing was saved. "
                "Upload the file again.",
                "error",
            )
            return back
        if not isinstance(body, dict) or body.get("project") != project.id:
            abort(400, "This preview is of another project's budget.")
        session = db()
        try:
            entries = entries_from_json(body.get("entries"))
            plan = apply_confirmed(
                session,
                project,
                entries,
                str(body.get("fingerprint", "")),
                source="import",
                changed_by=actor(),
            )
        except CostbridgeError as exc:
            session.rollback()
            flash(f"{exc.message} {exc.fix}", "error")
            return back
        session.commit()
        kept = plan.counts.get("kept", 0)
        flash(
            f"Budget imported: {_summary(plan)}; {kept} line(s) not in the file kept as they are.",
            "success",
        )
        return back

    @expose("/history")
    def history(self) -> Any:
        """Every change of the project's budget lines and settings: who, when, old and new."""
        project: Project = project_from_request()
        items = project_history(db(), project)
        return self.render("costbridge/budget_history.html", project=project, items=items)
