"""The project settings page, built from the plugins' `SettingSpec`s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask import flash
from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import SettingProblem
from core.contracts import SettingSpec
from core.errors import CostbridgeError
from core.models import CostCode
from core.models import Project
from core.money import parse_amount
from core.project_settings import effective_settings
from core.projects import update_settings
from core.runtime import Runtime
from core.web.ids import parse_id


def _parse(spec: SettingSpec, form: Mapping[str, str]) -> tuple[Any, SettingProblem | None]:
    raw = form.get(spec.key, "").strip()
    if spec.type == "bool":
        return spec.key in form, None
    if raw == "":
        return None, None
    if spec.type == "cost_code":
        code_id = parse_id(raw)
        if code_id is None:
            return None, SettingProblem(
                spec.key, f"{spec.label}: {raw!r} is not one of the company's cost codes."
            )
        return code_id, None
    try:
        if spec.type == "int":
            return int(raw), None
        if spec.type == "decimal":
            return parse_amount(raw, spec.label, places=4, negative=True, example="12.5"), None
    except CostbridgeError as exc:
        return None, SettingProblem(spec.key, f"{exc.message} {exc.fix}")
    except ValueError:
        return None, SettingProblem(spec.key, f"{spec.label} must be a number, not {raw!r}.")
    return raw, None


def handle(session: Session, project: Project, changed_by: str) -> dict[str, Any]:
    """Show (GET) or save (POST) a project's settings; returns what the template needs."""
    rt: Runtime = current_app.extensions["costbridge"]
    pm = rt.pm
    fields = list(pm.settings_applying(project.enabled_plugin_names(pm.names())).values())
    problems: list[SettingProblem] = []
    values = effective_settings(pm, project)
    if request.method == "POST":
        wanted: dict[str, Any] = {}
        for _plugin, spec in fields:
            value, problem = _parse(spec, request.form)
            if problem:
                problems.append(problem)
            else:
                wanted[spec.key] = value
        if not problems:
            problems = update_settings(session, pm, project, wanted, changed_by=changed_by)
        if problems:
            session.rollback()
            values = {**values, **wanted}
        else:
            session.commit()
            flash("Settings saved.", "success")
            values = effective_settings(pm, project)
    codes = session.scalars(
        select(CostCode).where(CostCode.company_id == project.company_id).order_by(CostCode.code)
    ).all()
    return {
        "project": project,
        "fields": [(pm.label_of(owner), spec) for owner, spec in fields],
        "values": values,
        "problems": problems,
        "codes": codes,
    }
