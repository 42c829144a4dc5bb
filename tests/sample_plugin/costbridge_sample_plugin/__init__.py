"""Sample third-party plugin: purchase-order settings and a validation rule it honours.

It owns QBO's PurchaseOrder entity but neither pulls nor pushes anything: it exists to show
discovery, settings and `validate_settings`, so none of its settings claims to sync.
"""

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
        "sample_po_check_prefix",
        "Check the purchase order prefix",
        "bool",
        True,
        "Refuse a purchase order prefix longer than 5 characters.",
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
    """While "Check the purchase order prefix" is on, a prefix may not exceed 5 characters."""
    prefix = settings.get("sample_po_prefix")
    checking = settings.get("sample_po_check_prefix", True)
    if checking and isinstance(prefix, str) and len(prefix) > 5:
        return [
            SettingProblem(
                "sample_po_prefix",
                "The prefix is longer than 5 characters.",
                "Use a shorter prefix.",
            )
        ]
    return []
