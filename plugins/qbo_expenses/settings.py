"""The expenses plugin's per-project settings (DESIGN.md, "Per-project settings").

"Exclude non-billable bills and expenses" governs bills too, so the core declares it
(`core.core_settings`); this plugin has no setting of its own.
"""

from __future__ import annotations

from core.contracts import SettingSpec

SETTINGS: tuple[SettingSpec, ...] = ()
