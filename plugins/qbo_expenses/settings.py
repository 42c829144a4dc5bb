"""The expenses plugin's per-project settings (DESIGN.md, "Per-project settings")."""

from __future__ import annotations

from core.contracts import SettingSpec

SETTINGS = (
    SettingSpec(
        "exclude_non_billable",
        "Exclude non-billable bills and expenses",
        "bool",
        False,
        "Bill and expense lines marked not billable in QuickBooks are left out of actuals.",
    ),
)
