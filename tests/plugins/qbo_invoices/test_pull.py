"""A sent invoice's paid status, read from the QBO Invoice's TotalAmt and Balance (API.md §11.5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import plugins.qbo_invoices
from core.contracts import InvoicePayment
from core.contracts import QboRecord


def invoice(**data):
    return QboRecord("Invoice", {"Id": "130", **data})


@pytest.mark.parametrize(
    ("total", "balance", "status"),
    [
        ("1466.66", "1466.66", "sent"),
        ("1466.66", "466.66", "partially_paid"),
        ("1466.66", "0", "paid"),
        ("1466.66", "-5.00", "paid"),
        ("0", "0", "void"),
    ],
)
def test_invoice_payment_follows_total_and_balance(total, balance, status):
    answer = plugins.qbo_invoices.invoice_payment(
        invoice(TotalAmt=Decimal(total), Balance=Decimal(balance))
    )

    assert answer == InvoicePayment(status, Decimal(balance))


def test_invoice_payment_of_an_invoice_with_no_balance_is_unpaid():
    answer = plugins.qbo_invoices.invoice_payment(invoice(TotalAmt=Decimal("100.00")))

    assert answer == InvoicePayment("sent", Decimal("100.00"))


def test_invoice_payment_of_a_voided_stub_is_void():
    assert plugins.qbo_invoices.invoice_payment(invoice(status="Voided")) == InvoicePayment(
        "void", Decimal(0)
    )


def test_invoice_payment_says_nothing_about_other_entities():
    assert plugins.qbo_invoices.invoice_payment(QboRecord("Payment", {"Id": "9"})) is None


def test_invoices_own_the_invoice_entity_only():
    assert plugins.qbo_invoices.plugin_info().owns == ("Invoice",)
