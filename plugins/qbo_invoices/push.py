"""Client invoices pushed as QBO Invoices: coded lines, markup on the profit code (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.contracts import LocalInvoice
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.errors import NeedsAdmin
from core.mapping.payloads import PRIVATE_NOTE_MAX
from core.mapping.payloads import item_for
from core.mapping.payloads import linked_customer
from core.mapping.payloads import money
from core.mapping.payloads import ref
from core.mapping.payloads import with_marker
from core.mapping.payloads import with_remote

#: QBO's DocNumber limit (API.md §11.2/§11.5: 21 characters).
DOC_NUMBER_MAX = 21


def invoice(record: LocalInvoice, lookups: PushLookups) -> QboPayload:
    """An Invoice for the linked customer; markup of all lines goes on one profit-code line."""
    customer = linked_customer(lookups)
    if not record.lines:
        raise NeedsAdmin("This invoice has no lines.", fix="Add at least one line.")
    lines: list[dict[str, Any]] = []
    for line in record.lines:
        item = item_for(
            line.cost_code_id,
            lookups,
            default_setting="default_invoice_code",
            default_label="Default invoice code",
            what="invoice",
        )
        klass = line.class_id or lookups.class_id
        lines.append(_sales_line(item, money(line.amount), line.description, klass))
    markup = money(sum((line.markup_amount for line in record.lines), Decimal("0")))
    if markup:
        profit = lookups.settings.get("profit_code")
        if not isinstance(profit, int) or isinstance(profit, bool):
            raise NeedsAdmin(
                "This invoice carries markup and the project has no profit code.",
                fix="Open Project settings and choose a Profit code.",
            )
        item = item_for(
            profit,
            lookups,
            default_setting="profit_code",
            default_label="Profit code",
            what="invoice",
        )
        percent = record.markup_percent.normalize()
        words = f"Markup {percent:f}%" if record.markup_percent else "Markup"
        lines.append(_sales_line(item, markup, words, lookups.class_id))
    body: dict[str, Any] = {
        "CustomerRef": ref(customer),
        "TxnDate": record.invoice_date.isoformat(),
        "PrivateNote": with_marker(record.memo, lookups.marker, PRIVATE_NOTE_MAX),
        "Line": lines,
    }
    if record.due_date:
        body["DueDate"] = record.due_date.isoformat()
    if record.number:
        body["DocNumber"] = record.number[:DOC_NUMBER_MAX]
    # QBO takes a class per transaction or per line (Preferences ClassTrackingPerTxn /
    # ClassTrackingPerTxnLine, API.md §11.16): the project's default goes on the invoice, each
    # line carries its own or the default. The location is the invoice's (DepartmentRef).
    if lookups.class_id:
        body["ClassRef"] = ref(lookups.class_id)
    location = record.location_id or lookups.location_id
    if location:
        body["DepartmentRef"] = ref(location)
    return QboPayload("Invoice", with_remote(body, lookups), marker_field="PrivateNote")


def _sales_line(
    item: str, amount: Decimal, description: str | None, klass: str | None
) -> dict[str, Any]:
    detail: dict[str, Any] = {"ItemRef": ref(item)}
    if klass:
        detail["ClassRef"] = ref(klass)
    line: dict[str, Any] = {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "SalesItemLineDetail": detail,
    }
    if description:
        line["Description"] = description[:4000]
    return line
