"""Sample third-party plugin: purchase orders, with one setting and a validation rule."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from core import hookimpl
from core.contracts import PluginInfo
from core.contracts import ProjectView
from core.contracts import SettingProblem
from core.contracts import SettingSpec

SETTINGS = (
    SettingSpec(
        "sample_po_sync",
        "Sync purchase orders",
        "bool",
        False,
        "Purchase orders created here are sent to QuickBooks.",
    ),
    SettingSpec(
        "sample_po_prefix",
        "Purchase order prefix",
        "text",
        "PO-",
        "Put in front of every purchase order number.",
    ),
)


@hookimpl
def plugin_info() -> PluginInfo:
    """Owns QBO's PurchaseOrder entity."""
    return PluginInfo(
        name="sample_purchase_orders",
        label="Purchase orders (sample)",
        owns=("PurchaseOrder",),
        settings=SETTINGS,
    )


@hookimpl
def validate_settings(
    project: ProjectView, settings: Mapping[str, object]
) -> Sequence[SettingProblem]:
    """A prefix may not be longer than 5 characters."""
    prefix = settings.get("sample_po_prefix")
    if isinstance(prefix, str) and len(prefix) > 5:
        return [
            SettingProblem(
                "sample_po_prefix",
                "The prefix is longer than 5 characters.",
                "Use a shorter prefix.",
            )
        ]
    return []
