"""Expenses: QBO Purchases (cash, check, credit card, credit-card credit, bank) as actuals."""

from __future__ import annotations

from core import hookimpl
from core.contracts import PluginInfo
from plugins.qbo_expenses import settings


@hookimpl
def plugin_info() -> PluginInfo:
    """Expenses own QBO's Purchase entity."""
    return PluginInfo(
        name="qbo_expenses",
        label="Expenses",
        owns=("Purchase",),
        settings=settings.SETTINGS,
        description="Pulls expenses, checks, card charges, card credits and bank transactions.",
    )
