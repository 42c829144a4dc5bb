"""The invoices plugin's per-project settings (DESIGN.md, "Per-project settings")."""

from __future__ import annotations

from core.contracts import SettingSpec

SETTINGS = (
    SettingSpec(
        "send_invoices",
        "Send invoices to QuickBooks",
        "bool",
        False,
        "Invoices are pushed to QuickBooks as customer invoices. While on, an invoice can only "
        "become paid from QuickBooks.",
        requires=("default_invoice_code",),
    ),
    SettingSpec(
        "default_invoice_code",
        "Default invoice code",
        "cost_code",
        None,
        "QuickBooks needs a product/service on every invoice line; lines with no cost code use "
        "this one. Required while sending invoices.",
    ),
    SettingSpec(
        "profit_code",
        "Profit code",
        "cost_code",
        None,
        "Product/service used for markup lines. Required when an invoice carries markup.",
    ),
)
