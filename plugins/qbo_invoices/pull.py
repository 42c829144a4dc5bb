"""Paid status of sent invoices, read back from QBO (pure).

QBO has no "paid" field (API.md §11.5): an invoice is paid when its Balance is 0 with a positive
TotalAmt, partly paid when 0 < Balance < TotalAmt, voided when both are 0. Recording, voiding or
deleting a Payment in QBO changes the Balance of the invoices it applies to, and so the invoice
itself: the Invoice alone is read, never the Payment.
"""

from __future__ import annotations

from decimal import Decimal

from core.contracts import InvoicePayment
from core.contracts import QboRecord
from core.mapping.lines import decimal


def payment(record: QboRecord) -> InvoicePayment | None:
    """The status and open balance an Invoice's TotalAmt and Balance mean."""
    if record.entity != "Invoice":
        return None
    total = decimal(record.data.get("TotalAmt")) or Decimal(0)
    balance = decimal(record.data.get("Balance"))
    if balance is None:
        balance = total
    if total == 0 and balance == 0:
        return InvoicePayment("void", balance)
    if balance <= 0:
        return InvoicePayment("paid", balance)
    if balance < total:
        return InvoicePayment("partially_paid", balance)
    return InvoicePayment("sent", balance)
