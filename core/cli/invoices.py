"""`costbridge invoices create|list`: client invoices, sent to QuickBooks (markup on its own line).

An invoice is recorded for QuickBooks while the project's "send invoices" is on; amounts and the
markup percent are read as exact decimals (`core.cli.common.parse_decimal`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

import click

from core.cli.common import CLASS
from core.cli.common import DAY
from core.cli.common import JSON
from core.cli.common import LOCATION
from core.cli.common import PROJECT
from core.cli.common import code_text
from core.cli.common import document_lines
from core.cli.common import fails_cleanly
from core.cli.common import list_command
from core.cli.common import parse_decimal
from core.cli.common import project_records
from core.cli.common import recorded
from core.cli.common import runtime
from core.cli.common import status_text
from core.cli.common import sync_json
from core.cli.common import tag_id
from core.models import Invoice

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["invoice_json", "invoices"]


def invoice_json(session: Session, invoice: Invoice) -> dict[str, Any]:
    """An invoice with its lines, markup, QBO paid status and sync status."""
    amount = sum((line.amount for line in invoice.lines), Decimal("0.00"))
    markup = sum((line.markup_amount for line in invoice.lines), Decimal("0.00"))
    return {
        "id": invoice.id,
        "project_id": invoice.project_id,
        "date": invoice.invoice_date.isoformat(),
        "doc_number": invoice.number,
        "markup_percent": str(invoice.markup_percent),
        "amount": str(amount),
        "markup": str(markup),
        "total": str(amount + markup),
        "status": invoice.status.value,
        "balance": None if invoice.balance is None else str(invoice.balance),
        "location_id": invoice.qbo_location_id,
        "lines": [
            {
                "code": code_text(session, line.cost_code_id),
                "amount": str(line.amount),
                "markup": str(line.markup_amount),
                "class_id": line.qbo_class_id,
            }
            for line in invoice.lines
        ],
        **sync_json(session, invoice),
    }


# -- invoices -----------------------------------------------------------------------------------


@click.group()
def invoices() -> None:
    """Client invoices of a project, sent to QuickBooks (markup on its own line)."""


@invoices.command("create")
@PROJECT
@click.option("--date", "invoice_date", type=DAY, required=True, help="Invoice date, YYYY-MM-DD.")
@click.option("--due-date", type=DAY, help="Due date, YYYY-MM-DD.")
@click.option("--doc-number", help="The invoice number.")
@click.option("--memo", help="A note kept on the invoice.")
@click.option("--line", "lines", multiple=True, required=True, help="CODE=AMOUNT, repeatable.")
@click.option("--markup", default="0", help="Markup percent on every line, such as 12.5.")
@CLASS
@LOCATION
@JSON
@fails_cleanly
def invoices_create(
    project_id: int,
    invoice_date: dt.datetime,
    due_date: dt.datetime | None,
    doc_number: str | None,
    memo: str | None,
    lines: tuple[str, ...],
    markup: str,
    class_name: str | None,
    location_name: str | None,
    as_json: bool,
) -> None:
    """Enter a client invoice; sent to QuickBooks when the project's "send invoices" is on."""
    from core.projects import get_project
    from core.push.records import create_invoice

    percent = parse_decimal(markup, "The markup", places=4, example="12.5")
    with runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        klass = tag_id(rt, session, project.company_id, "class", class_name)
        entered = document_lines(session, project.company_id, lines, billable_flags=False)
        invoice, entries = create_invoice(
            session,
            rt.pm,
            project,
            invoice_date=invoice_date.date(),
            due_date=due_date.date() if due_date else None,
            number=doc_number,
            memo=memo,
            markup_percent=percent,
            lines=[replace(line, class_id=klass) for line in entered],
            qbo_location_id=tag_id(rt, session, project.company_id, "location", location_name),
        )
        recorded(
            rt,
            session,
            entries,
            toggle="send invoices",
            as_json=as_json,
            record=invoice,
            to_json=invoice_json,
            done="invoice {} created",
        )


def _invoice_line(r: dict[str, Any]) -> None:
    click.echo(
        f"{r['id']:>5}  {r['date']}  {(r['doc_number'] or '-')[:12]:<12} {r['total']:>12} "
        f"{r['status']:<12} {status_text(r)}"
    )


list_command(
    invoices,
    "The project's invoices: total with markup, paid status, sync status, QuickBooks id.",
    per="project",
    rows=project_records(Invoice, invoice_json),
    echo=_invoice_line,
)
