"""The time plugin's per-project settings (DESIGN.md, "Per-project settings")."""

from __future__ import annotations

from core.contracts import SettingSpec

SETTINGS = (
    SettingSpec(
        "time_tracking",
        "QuickBooks time tracking",
        "bool",
        False,
        "Time entries created after this is turned on are pushed to QuickBooks as time "
        "charges and pulled back as actuals. Earlier entries are never sent. The employee "
        "must be connected to a QuickBooks employee.",
    ),
    SettingSpec(
        "include_billed_time",
        "Include already-billed time in actuals",
        "bool",
        False,
        "Count time charges QuickBooks marks as already billed.",
    ),
    SettingSpec(
        "include_non_billable_time",
        "Include non-billable time in actuals",
        "bool",
        False,
        "Count time charges QuickBooks marks as not billable.",
    ),
)
