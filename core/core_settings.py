"""Project settings the core declares: they govern several entity types, so no one plugin owns them.

They apply to every project whichever plugins it has enabled, so disabling one plugin never
removes them. Keys share one namespace with plugin settings; a plugin may not redeclare them.
"""

from __future__ import annotations

from core.contracts import SettingSpec

#: The owner name `PluginManager.setting_specs` gives these settings.
CORE = "core"
CORE_LABEL = "General"

CORE_SETTINGS = (
    SettingSpec(
        "exclude_non_billable",
        "Exclude non-billable bills and expenses",
        "bool",
        False,
        "Bill and expense lines marked not billable in QuickBooks are left out of actuals.",
    ),
)
