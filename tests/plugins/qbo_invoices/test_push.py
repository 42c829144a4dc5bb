"""The invoices push mapper, without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import plugins.qbo_invoices as qbo_invoices
from core.contracts import LocalInvoice
from core.contracts import LocalInvoiceLine
from core.contracts import PushLookups
from core.errors import NeedsAdmin
from plugins.qbo_invoices import push

D = Decimal


def invoice(*lines: LocalInvoiceLine, percent: str = "10") -> LocalInvoice:
    return LocalInvoice(
        id=4,
        number="1042",
        invoice_date=dt.date(2026, 3, 31),
        due_date=dt.date(2026, 4, 30),
        memo="Progress billing #3",
        markup_percent=D(percent),
        lines=lines
        or (
            LocalInvoiceLine(0, 11, "Framing", D("1000.00"), D("100.00")),
            LocalInvoiceLine(1, None, "Cleanup", D("333.33"), D("33.33")),
        ),
    )


def lookups(**changes: object) -> PushLookups:
    values: dict[str, object] = {
        "settings": {"send_invoices": True, "default_invoice_code": 12, "profit_code": 14},
        "customer_id": "58",
        "items": {11: "19", 12: "20", 14: "30"},
        "marker": "cb-abc",
    }
    values.update(changes)
    return PushLookups(**values)  # type: ignore[arg-type]


def test_push_payload_maps_an_invoice_with_markup_on_its_own_profit_line():
    payload = qbo_invoices.push_payload(invoice(), lookups())
    assert payload.entity == "Invoice"
    body = payload.body
    assert body["CustomerRef"] == {"value": "58"}
    assert (body["DocNumber"], body["TxnDate"], body["DueDate"]) == (
        "1042",
        "2026-03-31",
        "2026-04-30",
    )
    assert [
        (line["SalesItemLineDetail"]["ItemRef"]["value"], line["Amount"]) for line in body["Line"]
    ] == [("19", D("1000.00")), ("20", D("333.33")), ("30", D("133.33"))]
    assert body["Line"][2]["Description"] == "Markup 10%"
    assert body["PrivateNote"] == "Progress billing #3\ncb-abc"


def test_markup_without_a_profit_code_is_refused():
    with pytest.raises(NeedsAdmin, match="no profit code"):
        push.invoice(invoice(), lookups(settings={"default_invoice_code": 12}))


def test_invoice_without_markup_needs_no_profit_code():
    plain = invoice(LocalInvoiceLine(0, 11, None, D("10.00")), percent="0")
    payload = push.invoice(plain, lookups(settings={"default_invoice_code": 12}))
    assert len(payload.body["Line"]) == 1


def test_line_without_code_and_no_default_invoice_code_is_refused():
    with pytest.raises(NeedsAdmin, match="no default invoice code"):
        push.invoice(invoice(), lookups(settings={"profit_code": 14}))
