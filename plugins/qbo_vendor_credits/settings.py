"""The vendor-credits plugin's per-project settings (DESIGN.md, "Per-project settings")."""

from __future__ import annotations

from core.contracts import SettingSpec

SETTINGS = (
    SettingSpec(
        "vendor_credits",
        "Vendor credits",
        "bool",
        False,
        "Vendor credits in QuickBooks reduce this project's actuals.",
    ),
)
