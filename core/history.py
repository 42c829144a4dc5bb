"""A project's history: every change of its settings and of its budget, newest first.

Settings changes are `SettingChange` rows (`core.project_settings`), budget changes
`BudgetChange` rows (`core.budgets`); this module only reads them, for the console's History
page and `costbridge budget history`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import BudgetChange
from core.models import Project
from core.models import SettingChange

__all__ = ["HistoryItem", "project_history"]

#: Most changes shown at once.
LIMIT = 500


@dataclass(frozen=True)
class HistoryItem:
    """One change: when, who, which way in, what, from what to what (in words)."""

    kind: str  # "budget" or "setting"
    changed_at: dt.datetime
    changed_by: str | None
    source: str | None
    what: str
    old: str
    new: str

    def as_json(self) -> dict[str, Any]:
        """JSON-safe."""
        return {
            "kind": self.kind,
            "changed_at": self.changed_at.isoformat(),
            "changed_by": self.changed_by,
            "source": self.source,
            "what": self.what,
            "old": self.old,
            "new": self.new,
        }


def _money(amount: Decimal | None) -> str:
    return "—" if amount is None else f"{amount:,.2f}"


def _budget_value(amount: Decimal | None, description: str | None) -> str:
    text = _money(amount)
    return f"{text} ({description})" if description else text


def _setting_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def project_history(session: Session, project: Project, limit: int = LIMIT) -> list[HistoryItem]:
    """The project's latest `limit` changes of budget lines and settings, newest first."""
    budget = session.scalars(
        select(BudgetChange)
        .where(BudgetChange.project_id == project.id)
        .order_by(BudgetChange.changed_at.desc(), BudgetChange.id.desc())
        .limit(limit)
    )
    settings = session.scalars(
        select(SettingChange)
        .where(SettingChange.project_id == project.id)
        .order_by(SettingChange.changed_at.desc(), SettingChange.id.desc())
        .limit(limit)
    )
    items = [
        HistoryItem(
            kind="budget",
            changed_at=row.changed_at,
            changed_by=row.changed_by,
            source=row.source,
            what=f"Budget {row.code}",
            old=_budget_value(row.old_amount, row.old_description),
            new=_budget_value(row.new_amount, row.new_description),
        )
        for row in budget
    ] + [
        HistoryItem(
            kind="setting",
            changed_at=row.changed_at,
            changed_by=row.changed_by,
            source=None,
            what=f"Setting {row.key}",
            old=_setting_value(row.old_value),
            new=_setting_value(row.new_value),
        )
        for row in settings
    ]
    items.sort(key=lambda item: item.changed_at, reverse=True)
    return items[:limit]
