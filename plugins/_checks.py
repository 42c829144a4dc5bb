"""Setting checks several built-in plugins share."""

from __future__ import annotations

from collections.abc import Mapping

from core.contracts import ProjectView
from core.contracts import SettingProblem


def needs_link(
    project: ProjectView, settings: Mapping[str, object], *keys: str
) -> list[SettingProblem]:
    """A problem for each of `keys` that is on while the project has no linked QBO customer."""
    if project.qbo_customer_id:
        return []
    return [
        SettingProblem(
            key,
            "This project is not linked to a QuickBooks customer yet, so nothing can sync.",
            "Open Project details → Financials, choose the QuickBooks customer, sub-customer or "
            "project, and select Connect Project.",
        )
        for key in keys
        if settings.get(key)
    ]
