"""A project's integration settings: defaults from plugins, checks before saving, history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from core.contracts import ProjectView
from core.contracts import SettingProblem
from core.db import utcnow
from core.errors import CostbridgeError
from core.lookup import company_cost_codes
from core.lookup import find_cost_code
from core.models import CostCode
from core.models import Project
from core.models import SettingChange
from core.plugins import PluginManager
from core.plugins import ProjectHooks
from core.plugins import call_each
from core.plugins import installed_plugin_names


def project_view(project: Project, pm: PluginManager) -> ProjectView:
    """The frozen view of a project that plugins receive."""
    return ProjectView(
        id=project.id,
        company_id=project.company_id,
        name=project.name,
        qbo_customer_id=project.qbo_customer_id,
        settings=effective_settings(pm, project),
    )


def effective_settings(pm: PluginManager, project: Project) -> dict[str, Any]:
    """The core's and every enabled plugin's settings for the project, defaults filled in."""
    stored = project.settings or {}
    applying = pm.settings_applying(project.enabled_plugin_names(pm.names()))
    return {
        key: spec.from_stored(stored.get(key, spec.default)) for key, (_o, spec) in applying.items()
    }


def plugin_setting_key(name: str) -> str:
    """The `SettingChange.key` under which enabling or disabling plugin `name` is recorded."""
    return f"plugin:{name}"


def set_plugin_enabled(
    session: Session,
    project: Project,
    name: str,
    enabled: bool,
    changed_by: str | None = None,
) -> bool:
    """Turn plugin `name` on or off for `project`, recording the change in its setting history.

    A plugin installed after the project was created stays off until this turns it on. The
    caller commits.

    Returns:
        Whether anything changed (False when the plugin already was in that state).
    """
    current = (
        list(project.enabled_plugins)
        if project.enabled_plugins is not None
        else installed_plugin_names()
    )
    if (name in current) == enabled:
        return False
    names = sorted({*current, name}) if enabled else [n for n in current if n != name]
    project.enabled_plugins = names
    session.add(
        SettingChange(
            project_id=project.id,
            key=plugin_setting_key(name),
            old_value=not enabled,
            new_value=enabled,
            changed_by=changed_by,
            changed_at=utcnow(),
        )
    )
    return True


def check_settings(
    pm: PluginManager, session: Session, project: Project, wanted: Mapping[str, Any]
) -> list[SettingProblem]:
    """Everything wrong with saving `wanted` (a partial or full settings map) on `project`.

    Checks, in order: keys exist, values have the setting's type, cost codes belong to the
    project's company, `requires` are met, then each enabled plugin's `validate_settings`.
    """
    specs = pm.setting_specs()
    merged = {**effective_settings(pm, project), **wanted}
    problems: list[SettingProblem] = []
    for key, value in wanted.items():
        if key not in specs:
            problems.append(
                SettingProblem(
                    key,
                    f"There is no setting called {key!r}.",
                    "Check the plugin that should provide it is installed.",
                )
            )
            continue
        _plugin, spec = specs[key]
        if not spec.accepts(value):
            problems.append(
                SettingProblem(key, f"{spec.label} must be a {spec.type}, not {value!r}.")
            )
        elif spec.type == "cost_code" and value is not None:
            code = session.get(CostCode, value)
            if code is None or code.company_id != project.company_id:
                problems.append(
                    SettingProblem(
                        key,
                        f"{spec.label}: that cost code does not exist.",
                        "Choose one of the company's cost codes.",
                    )
                )
            elif (problem := code.usability_problem()) is not None:
                # Refused now, not at the first push that needs it.
                problems.append(
                    SettingProblem(
                        key,
                        f"{spec.label}: cost code {code.label} cannot be used in "
                        f"QuickBooks: {problem}.",
                        "Fix the item in QuickBooks and import cost codes again, or choose "
                        "another code.",
                    )
                )
    # A setting that is on must keep what it requires, whichever of the two is being changed.
    for key, (_plugin, spec) in specs.items():
        if key not in merged or not merged[key]:
            continue
        for needed in spec.requires:
            if not merged.get(needed):
                label = specs[needed][1].label if needed in specs else needed
                problems.append(
                    SettingProblem(
                        key,
                        f"{spec.label} cannot be on while {label} is not set.",
                        f"Choose a {label} first, or turn off {spec.label}.",
                    )
                )
    if problems:
        return problems
    hooks = ProjectHooks(pm, project.enabled_plugin_names(pm.names()))
    view = project_view(project, pm)
    for outcome in call_each(hooks, "validate_settings", project=view, settings=merged):
        if outcome.error is not None:
            problems.append(
                SettingProblem(
                    "",
                    f"The {outcome.plugin} plugin could not check these settings.",
                    "Try again; if it keeps failing, ask support to look at the plugin's log.",
                )
            )
        else:
            problems.extend(outcome.result or ())
    return problems


def cost_code_named(session: Session, company_id: int, text: str) -> CostCode | None:
    """The company's cost code whose code, or else whose name, is `text` (as bills take it).

    Case and surrounding spaces are ignored. Several codes with that name is no match (the
    code itself is unique). A bare number that is no code or name is taken as a cost code id
    (what earlier versions of `projects set` asked for).
    """
    codes = company_cost_codes(session, company_id)
    try:
        return find_cost_code(session, company_id, text, codes=codes)
    except CostbridgeError:
        wanted = text.strip()
        if wanted.isdigit():
            return next((c for c in codes if c.id == int(wanted)), None)
        return None


def resolve_named_codes(
    pm: PluginManager, session: Session, project: Project, wanted: Mapping[str, Any]
) -> tuple[dict[str, Any], list[SettingProblem]]:
    """`wanted` with each cost-code setting given as text (code or name) turned into its id.

    Returns:
        The settings to check and save, and a problem for each text that names no one code.
    """
    specs = pm.setting_specs()
    out = dict(wanted)
    problems: list[SettingProblem] = []
    for key, value in wanted.items():
        if key not in specs or specs[key][1].type != "cost_code" or not isinstance(value, str):
            continue
        if not value.strip():
            out[key] = None
            continue
        code = cost_code_named(session, project.company_id, value)
        if code is None:
            label = specs[key][1].label
            problems.append(
                SettingProblem(
                    key,
                    f"{label}: no single cost code has the code or name “{value.strip()}”.",
                    "Give the code (like 06-200) or the full name of one of the company's cost "
                    "codes (`costbridge cost-codes list`).",
                )
            )
        else:
            out[key] = code.id
    return out, problems


def save_settings(
    pm: PluginManager,
    session: Session,
    project: Project,
    wanted: Mapping[str, Any],
    *,
    changed_by: str | None = None,
) -> list[SettingProblem]:
    """Check and store `wanted`, recording each change; nothing is stored if any check fails.

    A cost-code setting may be given as the code's text or name (`resolve_named_codes`).
    """
    wanted, problems = resolve_named_codes(pm, session, project, wanted)
    if problems:
        return problems
    problems = check_settings(pm, session, project, wanted)
    if problems:
        return problems
    specs = pm.setting_specs()
    current = effective_settings(pm, project)
    now = utcnow()
    stored = {key: specs[key][1].to_stored(value) for key, value in wanted.items()}
    for key, value in wanted.items():
        if current.get(key) != value:
            spec = specs[key][1]
            session.add(
                SettingChange(
                    project_id=project.id,
                    key=key,
                    old_value=spec.to_stored(current.get(key)),
                    new_value=stored[key],
                    changed_by=changed_by,
                    changed_at=now,
                )
            )
    project.settings = {**(project.settings or {}), **stored}
    return []
