"""Invoices pushed to the sandbox; paid status only from QBO while "send invoices" is on."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from core.errors import NeedsAdmin
from core.models import InvoiceStatus
from core.push import records
from core.push.invoice_status import refresh_invoice_status
from core.push.records import LineInput
from tests.core.push.conftest import send

D = Decimal


def _invoice(qbo_runtime, committed_db, books, project_factory):
    project = project_factory(
        {
            "send_invoices": True,
            "default_invoice_code": books.framing.id,
            "profit_code": books.profit.id,
        },
        customer_id=books.customer_id,
    )
    invoice, entries = records.create_invoice(
        committed_db,
        qbo_runtime.pm,
        project,
        invoice_date=dt.date(2026, 3, 31),
        due_date=dt.date(2026, 4, 30),
        number="1042",
        markup_percent=D("10"),
        lines=[LineInput(D("1000.00"), books.concrete.id), LineInput(D("333.33"))],
    )
    send(qbo_runtime, committed_db, entries)
    return invoice, records.qbo_id_of(committed_db, "invoice", invoice.id)


def test_invoice_is_pushed_with_exact_amounts_and_markup_on_the_profit_code(
    qbo_runtime, committed_db, books, project_factory
):
    _invoice_row, qbo_id = _invoice(qbo_runtime, committed_db, books, project_factory)
    pushed = books.client.read("Invoice", qbo_id)
    assert (pushed["DocNumber"], pushed["TxnDate"], pushed["DueDate"]) == (
        "1042",
        "2026-03-31",
        "2026-04-30",
    )
    assert pushed["CustomerRef"]["value"] == books.customer_id
    assert pushed["TotalAmt"] == D("1466.66")
    items = [
        (line["SalesItemLineDetail"]["ItemRef"]["value"], line["Amount"])
        for line in pushed["Line"]
        if line["DetailType"] == "SalesItemLineDetail"
    ]
    assert items == [
        (books.concrete.qbo_item_id, D("1000.00")),
        (books.framing.qbo_item_id, D("333.33")),
        (books.profit.qbo_item_id, D("133.33")),
    ]


def test_integrated_invoice_cannot_be_marked_paid_here(
    qbo_runtime, committed_db, books, project_factory
):
    invoice, _qbo_id = _invoice(qbo_runtime, committed_db, books, project_factory)
    with pytest.raises(NeedsAdmin, match="can only be marked paid there"):
        records.mark_invoice_paid(committed_db, qbo_runtime.pm, invoice)


def test_paid_and_partly_paid_come_from_qbo(qbo_runtime, committed_db, books, project_factory):
    invoice, qbo_id = _invoice(qbo_runtime, committed_db, books, project_factory)

    def pay(amount):
        books.client.create(
            "Payment",
            {
                "CustomerRef": {"value": books.customer_id},
                "TotalAmt": amount,
                "Line": [
                    {"Amount": amount, "LinkedTxn": [{"TxnId": qbo_id, "TxnType": "Invoice"}]}
                ],
            },
            request_id=uuid.uuid4().hex,
        )
        refresh_invoice_status(committed_db, books.client, qbo_runtime_realm(committed_db))
        committed_db.commit()
        committed_db.refresh(invoice)

    pay(D("466.66"))
    assert (invoice.status, invoice.balance) == (InvoiceStatus.PARTIALLY_PAID, D("1000.00"))
    pay(D("1000.00"))
    assert (invoice.status, invoice.balance) == (InvoiceStatus.PAID, D("0.00"))


def qbo_runtime_realm(db):
    from core.models import Company

    return db.query(Company).one().realm_id
