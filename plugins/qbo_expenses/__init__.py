"""Expenses: QBO Purchases (cash, check, credit card, credit-card credit, bank) as actuals."""

from __future__ import annotations

from collections.abc import Sequence

from core import hookimpl
from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import PluginInfo
from core.contracts import QboRecord
from plugins.qbo_expenses import pull
from plugins.qbo_expenses import settings


@hookimpl
def plugin_info() -> PluginInfo:
    """Expenses own QBO's Purchase entity."""
    return PluginInfo(
        name="qbo_expenses",
        label="Expenses",
        owns=("Purchase",),
        actual_types=pull.ACTUAL_TYPES,
        settings=settings.SETTINGS,
        description="Pulls expenses, checks, card charges, card credits and bank transactions.",
    )


@hookimpl
def actual_lines(record: QboRecord, lookups: Lookups) -> Sequence[CandidateLine]:
    """Map one pulled record to candidate actual lines."""
    return pull.lines(record, lookups)
