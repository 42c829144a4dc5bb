"""Vendor credits: QBO VendorCredit lines as negative actuals, when the toggle is on."""

from __future__ import annotations

from core import hookimpl
from core.contracts import PluginInfo
from plugins.qbo_vendor_credits import settings


@hookimpl
def plugin_info() -> PluginInfo:
    """Vendor credits own QBO's VendorCredit entity."""
    return PluginInfo(
        name="qbo_vendor_credits",
        label="Vendor credits",
        owns=("VendorCredit",),
        settings=settings.SETTINGS,
        description="Pulls vendor credits as negative actuals.",
    )
