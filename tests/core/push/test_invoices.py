"""Invoices pushed to the sandbox; paid status only from QBO while "send invoices" is on."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from core.errors import NeedsAdmin
from core.models import InvoiceStatus
from core.models import OutboxEntry
from core.models import OutboxState
from core.push import records
from core.push.records import LineInput
from core.sync.invoices import refresh_invoice_status
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
        refresh_invoice_status(
            committed_db, books.client, qbo_runtime_realm(committed_db), qbo_runtime.pm
        )
        committed_db.commit()
        committed_db.refresh(invoice)

    pay(D("466.66"))
    assert (invoice.status, invoice.balance) == (InvoiceStatus.PARTIALLY_PAID, D("1000.00"))
    pay(D("1000.00"))
    assert (invoice.status, invoice.balance) == (InvoiceStatus.PAID, D("0.00"))


def qbo_runtime_realm(db):
    from core.models import Company

    return db.query(Company).one().realm_id


def _pay(books, qbo_id, amount):
    books.client.create(
        "Payment",
        {
            "CustomerRef": {"value": books.customer_id},
            "TotalAmt": amount,
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": qbo_id, "TxnType": "Invoice"}]}],
        },
        request_id=uuid.uuid4().hex,
    )


def test_each_invoice_edit_is_sent_with_its_own_key(
    qbo_runtime, committed_db, books, project_factory
):
    invoice, qbo_id = _invoice(qbo_runtime, committed_db, books, project_factory)
    first = records.edit_invoice(committed_db, qbo_runtime.pm, invoice, number="1043")
    send(qbo_runtime, committed_db, first)
    assert books.client.read("Invoice", qbo_id)["DocNumber"] == "1043"
    second = records.edit_invoice(
        committed_db,
        qbo_runtime.pm,
        invoice,
        markup_percent=D("0"),
        lines=[LineInput(D("250.00"), books.concrete.id)],
    )
    send(qbo_runtime, committed_db, second)
    pushed = books.client.read("Invoice", qbo_id)
    assert (pushed["DocNumber"], pushed["TotalAmt"]) == ("1043", D("250.00"))
    rows = [committed_db.get(OutboxEntry, e.id) for e in (*first, *second)]
    assert [r.state for r in rows] == [OutboxState.DONE, OutboxState.DONE]
    assert len({r.idempotency_key for r in rows}) == 2
    assert len(books.client.query("SELECT * FROM Invoice")["Invoice"]) == 1


def test_invoice_paid_in_qbo_cannot_be_edited_here(
    qbo_runtime, committed_db, books, project_factory
):
    invoice, qbo_id = _invoice(qbo_runtime, committed_db, books, project_factory)
    _pay(books, qbo_id, D("100.00"))
    refresh_invoice_status(
        committed_db, books.client, qbo_runtime_realm(committed_db), qbo_runtime.pm
    )
    committed_db.commit()
    with pytest.raises(NeedsAdmin, match="has been paid"):
        records.edit_invoice(committed_db, qbo_runtime.pm, invoice, number="1043")
    assert books.client.read("Invoice", qbo_id)["DocNumber"] == "1042"


def test_edit_of_invoice_paid_in_qbo_since_the_last_pull_is_refused_by_the_push(
    qbo_runtime, committed_db, books, project_factory
):
    invoice, qbo_id = _invoice(qbo_runtime, committed_db, books, project_factory)
    _pay(books, qbo_id, D("1466.66"))
    entries = records.edit_invoice(committed_db, qbo_runtime.pm, invoice, number="1043")
    send(qbo_runtime, committed_db, entries)
    row = committed_db.get(OutboxEntry, entries[0].id)
    assert row.state == OutboxState.NEEDS_ADMIN
    assert "has been paid" in row.last_error
    assert books.client.read("Invoice", qbo_id)["DocNumber"] == "1042"
