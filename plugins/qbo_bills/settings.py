"""The bills plugin's per-project settings (DESIGN.md, "Per-project settings")."""

from __future__ import annotations

from collections.abc import Mapping

from core.contracts import SettingSpec

SETTINGS = (
    SettingSpec(
        "push_bills",
        "Push bills to QuickBooks",
        "bool",
        False,
        "Bills created here are pushed to QuickBooks as unpaid bills. The vendor must be "
        "connected to a QuickBooks vendor.",
        requires=("default_billing_cost_code",),
    ),
    SettingSpec(
        "default_billing_cost_code",
        "Default billing cost code",
        "cost_code",
        None,
        "QuickBooks needs a product/service on every bill line; lines with no cost code use "
        "this one. Required while pushing bills.",
    ),
    SettingSpec(
        "push_bill_attachments",
        "Push bill attachments to QuickBooks",
        "bool",
        True,
        "Files attached to a pushed bill are uploaded to QuickBooks with it.",
    ),
    SettingSpec(
        "pull_bill_attachments",
        "Pull bill attachments from QuickBooks",
        "bool",
        False,
        "Files attached in QuickBooks to this project's bills are copied here, read-only.",
    ),
)


def pulls_files(entity: str, settings: Mapping[str, object]) -> bool:
    """Whether a project with `settings` copies the files attached in QBO to its bills."""
    return entity == "Bill" and bool(settings.get("pull_bill_attachments"))
