"""Paid, partly paid or unpaid: an integrated invoice's status comes from QBO, on every pull.

QBO has no "paid" field (API.md §11.5): an invoice is paid when its Balance is 0 with a positive
TotalAmt, partly paid when 0 < Balance < TotalAmt, voided when both are 0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Invoice
from core.models import InvoiceStatus
from core.models import RemoteMapping
from core.qbo import queries


def status_of(total: Decimal, balance: Decimal) -> InvoiceStatus:
    """The local status QBO's TotalAmt and Balance mean."""
    if total == 0 and balance == 0:
        return InvoiceStatus.VOID
    if balance <= 0:
        return InvoiceStatus.PAID
    if balance < total:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.SENT


def pushed_invoices(session: Session, realm_id: str) -> dict[str, int]:
    """QBO Invoice id -> local invoice id, for every invoice costbridge pushed to the realm."""
    return {
        m.qbo_id: m.local_id
        for m in session.scalars(
            select(RemoteMapping).filter_by(realm_id=realm_id, local_kind="invoice")
        )
    }


def apply_rows(session: Session, mapped: dict[str, int], rows: list[dict[str, Any]]) -> int:
    """Set the status of the pushed invoices among QBO `rows`; returns how many changed."""
    changed = 0
    for row in rows:
        invoice = session.get(Invoice, mapped.get(str(row.get("Id")), -1))
        if invoice is None or row.get("status") == "Deleted":
            continue
        total = Decimal(str(row.get("TotalAmt", "0")))
        balance = Decimal(str(row.get("Balance", total)))
        status = status_of(total, balance)
        if (invoice.status, invoice.balance) != (status, balance):
            invoice.status = status
            invoice.balance = balance
            changed += 1
    return changed


def refresh_invoice_status(session: Session, client: Any, realm_id: str) -> int:
    """Read every pushed invoice of a realm from QBO (1000 per query) and set its status.

    Called after a full pull of the realm (CDC pulls read changed invoices with the rest); the
    caller commits. Returns how many changed.
    """
    mapped = pushed_invoices(session, realm_id)
    changed = 0
    ids = sorted(mapped)
    for start in range(0, len(ids), queries.MAX_RESULTS):
        chunk = ids[start : start + queries.MAX_RESULTS]
        rows = client.query(queries.select("Invoice", queries.in_("Id", chunk))).get("Invoice", [])
        changed += apply_rows(session, mapped, list(rows or []))
    return changed
