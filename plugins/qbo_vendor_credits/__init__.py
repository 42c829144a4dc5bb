"""Vendor credits: QBO VendorCredit lines as negative actuals, when the toggle is on."""

from __future__ import annotations

from collections.abc import Sequence

from core import hookimpl
from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import PluginInfo
from core.contracts import QboRecord
from plugins.qbo_vendor_credits import pull
from plugins.qbo_vendor_credits import settings


@hookimpl
def plugin_info() -> PluginInfo:
    """Vendor credits own QBO's VendorCredit entity."""
    return PluginInfo(
        name="qbo_vendor_credits",
        label="Vendor credits",
        owns=("VendorCredit",),
        actual_types=pull.ACTUAL_TYPES,
        settings=settings.SETTINGS,
        description="Pulls vendor credits as negative actuals.",
    )


@hookimpl
def actual_lines(record: QboRecord, lookups: Lookups) -> Sequence[CandidateLine]:
    """Map one pulled record to candidate actual lines."""
    return pull.lines(record, lookups)
