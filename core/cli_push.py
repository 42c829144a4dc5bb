"""`costbridge bills|invoices|time|outbox`: the push, from a terminal.

For support staff and scripted entry. Every command calls what the admin console calls
(`core.push.records`, `core.push.outbox`), commits, and then queues the
recorded pushes (`core.jobs.tasks.enqueue_recorded`; the sweeper sends them if Redis is away).
Amounts are read as exact decimals and never rounded: "12.345" is refused, not made 12.35.
Names (vendors, employees, cost codes) match whatever their case or accents' composition; an
unknown one is refused naming the closest (`core.cli_catalog`, which also holds the catalog
imports and lists). Errors and `--json` as in `core.cli_sync`.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
from collections.abc import Callable
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import click
from sqlalchemy import select

from core.cli_catalog import _JSON
from core.cli_catalog import _PROJECT
from core.cli_catalog import _code
from core.cli_catalog import _named
from core.cli_catalog import _show
from core.cli_outbox import _send
from core.cli_outbox import _status_text
from core.cli_outbox import sync_json
from core.cli_sync import _dump
from core.cli_sync import _fails_cleanly
from core.cli_sync import _runtime
from core.errors import CostbridgeError
from core.models import Attachment
from core.models import Bill
from core.models import CostCode
from core.models import Employee
from core.models import Invoice
from core.models import OutboxEntry
from core.models import TimeEntry
from core.models import Vendor
from core.push.records import LineInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.runtime import Runtime

__all__ = ["bills", "invoices", "time_entries"]

D = TypeVar("D", Bill, Invoice, TimeEntry)
F = TypeVar("F", bound=Callable[..., Any])
DAY = click.DateTime(formats=["%Y-%m-%d"])
_NUMBER = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?")


# -- reading what was typed -----------------------------------------------------------------------


def parse_decimal(raw: str, what: str, *, places: int = 2, example: str = "1250.10") -> Decimal:
    """`raw` as an exact, non-negative decimal with at most `places` decimals (never rounded).

    Raises:
        CostbridgeError: Not such a number; the message quotes it and says how to write it.
    """
    text = raw.strip()
    if not _NUMBER.fullmatch(text):
        raise CostbridgeError(
            f"{what} “{raw}” is not a number.",
            fix=f"Write it with digits and a dot, such as {example}.",
        )
    value = Decimal(text.replace(",", ""))
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        unit = "cents" if places == 2 else f"{places} decimal places"
        raise CostbridgeError(
            f"{what} “{raw}” has more decimals than {unit}.",
            fix=f"Write it with at most {places} decimals (such as {example}); costbridge does "
            "not round what you type.",
        )
    return value


def _lines(
    session: Session, company_id: int, raw: Sequence[str], *, billable_flags: bool
) -> list[LineInput]:
    """`CODE=AMOUNT[:billable|:notbillable]` options as lines (an empty CODE: the default)."""
    if not raw:
        raise CostbridgeError("A document needs at least one line.", fix="Add --line CODE=AMOUNT.")
    lines = []
    for item in raw:
        code, sep, rest = item.rpartition("=")
        amount, _, flag = rest.partition(":")
        if not sep or (flag and (not billable_flags or flag not in ("billable", "notbillable"))):
            form = "CODE=AMOUNT[:billable|:notbillable]" if billable_flags else "CODE=AMOUNT"
            raise CostbridgeError(
                f"--line “{item}” is not {form}.", fix="Write it like 0310=120.50."
            )
        cost_code = _code(session, company_id, code) if code.strip() else None
        lines.append(
            LineInput(
                amount=parse_decimal(amount, f"The amount of line “{item}”"),
                cost_code_id=cost_code.id if cost_code else None,
                billable=flag != "notbillable",
            )
        )
    return lines


def _attach(rt: Runtime, session: Session, bill: Bill, paths: Sequence[Path]) -> list[OutboxEntry]:
    from core.files import store_for
    from core.push.records import attach_file

    store = store_for(rt.settings.instance_path)
    entries: list[OutboxEntry] = []
    for path in paths:
        _file, more = attach_file(
            session,
            rt.pm,
            store,
            bill,
            file_name=path.name,
            content=path.read_bytes(),
            content_type=mimetypes.guess_type(path.name)[0],
        )
        entries += more
    return entries


def _sent_words(recorded: int, queued: int, toggle: str) -> str:
    if not recorded:
        return f"not recorded for QuickBooks (“{toggle}” is off, or a waiting change carries it)"
    return f"{recorded} change(s) recorded for QuickBooks, {queued} push job(s) queued"


# -- what the lists show ------------------------------------------------------------------------


def _code_text(session: Session, code_id: int | None) -> str | None:
    code = session.get(CostCode, code_id) if code_id is not None else None
    return code.code if code else None


def bill_json(session: Session, bill: Bill) -> dict[str, Any]:
    """A bill with its lines, files and sync status (amounts as decimal strings)."""
    vendor = session.get(Vendor, bill.vendor_id)
    files = session.scalars(
        select(Attachment).where(Attachment.bill_id == bill.id).order_by(Attachment.id)
    )
    return {
        "id": bill.id,
        "project_id": bill.project_id,
        "vendor": vendor.name if vendor else None,
        "date": bill.bill_date.isoformat(),
        "due_date": bill.due_date.isoformat() if bill.due_date else None,
        "doc_number": bill.number,
        "memo": bill.memo,
        "total": str(sum((line.amount for line in bill.lines), Decimal("0.00"))),
        "lines": [
            {
                "code": _code_text(session, line.cost_code_id),
                "amount": str(line.amount),
                "billable": line.billable,
                "description": line.description,
            }
            for line in bill.lines
        ],
        "files": [
            {"id": f.id, "name": f.file_name, "origin": f.origin.value}
            | sync_json(session, "attachment", f.id)
            for f in files
        ],
        **sync_json(session, "bill", bill.id),
    }


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
        "lines": [
            {
                "code": _code_text(session, line.cost_code_id),
                "amount": str(line.amount),
                "markup": str(line.markup_amount),
            }
            for line in invoice.lines
        ],
        **sync_json(session, "invoice", invoice.id),
    }


def time_json(session: Session, entry: TimeEntry) -> dict[str, Any]:
    """A time entry with its employee, hours, code and sync status."""
    employee = session.get(Employee, entry.employee_id)
    return {
        "id": entry.id,
        "project_id": entry.project_id,
        "employee": employee.name if employee else None,
        "date": entry.work_date.isoformat(),
        "hours": str(entry.hours),
        "code": _code_text(session, entry.cost_code_id),
        "billable": entry.billable,
        **sync_json(session, "time_entry", entry.id),
    }


# -- bills --------------------------------------------------------------------------------------

_LINE_HELP = "CODE=AMOUNT[:billable|:notbillable], repeatable (empty CODE: the default code)."
_ATTACH = click.option(
    "--attach",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file to attach (repeatable); it goes up to QuickBooks with the bill.",
)


@click.group()
def bills() -> None:
    """Vendor bills of a project, pushed to QuickBooks as unpaid bills (with their files)."""


def _bill(session: Session, bill_id: int) -> Bill:
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise CostbridgeError(
            f"There is no bill {bill_id}.", fix="Run `costbridge bills list --project ID`."
        )
    return bill


def _list_command(
    group: click.Group,
    model: type[D],
    doc: str,
    to_json: Callable[[Session, D], dict[str, Any]],
    echo: Callable[[dict[str, Any]], None],
) -> None:
    """`GROUP list --project ID [--json]`: the project's records, oldest first."""

    @group.command("list", help=doc)
    @_PROJECT
    @_JSON
    @_fails_cleanly
    def command(project_id: int, as_json: bool) -> None:
        from core.projects import get_project

        with _runtime() as rt, rt.sessions() as session:
            get_project(session, project_id)
            query = select(model).where(model.project_id == project_id).order_by(model.id)
            rows = [to_json(session, r) for r in session.scalars(query)]
        _show(rows, as_json, echo)


def _recorded(
    rt: Runtime,
    session: Session,
    entries: Sequence[OutboxEntry],
    toggle: str,
    as_json: bool,
    record: D,
    to_json: Callable[[Session, D], dict[str, Any]],
    done: str,
) -> None:
    """Commit and queue `entries`, then show `record` (`--json`) or that it was `done` and how
    many pushes were recorded and queued (none while the project's `toggle` is off)."""
    queued = _send(rt, session, entries)
    words = _sent_words(len(entries), queued, toggle)
    if as_json:
        _dump(to_json(session, record))
    else:
        click.echo(f"costbridge: {done.format(record.id)}; {words}.")


def _bill_options(*, create: bool) -> Callable[[F], F]:
    """A bill's options, from --vendor to --json (vendor, date and lines required to create)."""
    options = [
        click.option(
            "--vendor",
            required=create,
            help="The vendor's name (see `vendors list`)." if create else "The vendor's name.",
        ),
        click.option(
            "--date", "bill_date", type=DAY, required=create, help="Bill date, YYYY-MM-DD."
        ),
        click.option("--due-date", type=DAY, help="Due date, YYYY-MM-DD."),
        click.option("--doc-number", help="The vendor's bill number."),
        click.option("--memo", help="A note kept on the bill."),
        click.option(
            "--line",
            "lines",
            multiple=True,
            required=create,
            help=_LINE_HELP if create else _LINE_HELP + " Replaces every line.",
        ),
        _ATTACH,
        _JSON,
    ]

    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


@bills.command("create")
@_PROJECT
@_bill_options(create=True)
@_fails_cleanly
def bills_create(
    project_id: int,
    vendor: str,
    bill_date: dt.datetime,
    due_date: dt.datetime | None,
    doc_number: str | None,
    memo: str | None,
    lines: tuple[str, ...],
    files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Enter a bill; pushed to QuickBooks when the project's "push bills" is on."""
    from core.projects import get_project
    from core.push.records import create_bill

    with _runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        bill, entries = create_bill(
            session,
            rt.pm,
            project,
            vendor=_named(session, Vendor, "vendor", project.company_id, vendor),
            bill_date=bill_date.date(),
            due_date=due_date.date() if due_date else None,
            number=doc_number,
            memo=memo,
            lines=_lines(session, project.company_id, lines, billable_flags=True),
        )
        entries += _attach(rt, session, bill, files)
        _recorded(rt, session, entries, "push bills", as_json, bill, bill_json, "bill {} created")


@bills.command("edit")
@click.argument("bill_id", type=int)
@_bill_options(create=False)
@_fails_cleanly
def bills_edit(
    bill_id: int,
    vendor: str | None,
    bill_date: dt.datetime | None,
    due_date: dt.datetime | None,
    doc_number: str | None,
    memo: str | None,
    lines: tuple[str, ...],
    files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Change a bill (the lines given replace all of its lines) or attach more files."""
    from core.projects import get_project
    from core.push.records import edit_bill

    with _runtime() as rt, rt.sessions() as session:
        bill = _bill(session, bill_id)
        company_id = get_project(session, bill.project_id).company_id
        fields: dict[str, Any] = {}
        if vendor is not None:
            fields["vendor_id"] = _named(session, Vendor, "vendor", company_id, vendor).id
        if bill_date is not None:
            fields["bill_date"] = bill_date.date()
        if due_date is not None:
            fields["due_date"] = due_date.date()
        if doc_number is not None:
            fields["number"] = doc_number or None
        if memo is not None:
            fields["memo"] = memo or None
        new_lines = _lines(session, company_id, lines, billable_flags=True) if lines else None
        if not fields and new_lines is None and not files:
            raise CostbridgeError(
                "Nothing to change.",
                fix="Give --vendor, --date, --line, --attach or another option.",
            )
        entries = (
            edit_bill(session, rt.pm, bill, lines=new_lines, **fields) if fields or lines else []
        )
        entries += _attach(rt, session, bill, files)
        _recorded(rt, session, entries, "push bills", as_json, bill, bill_json, "bill {} saved")


@bills.command("delete")
@click.argument("bill_id", type=int)
@_fails_cleanly
def bills_delete(bill_id: int) -> None:
    """Delete a bill here, and in QuickBooks if it was sent (refused there once it is paid)."""
    from core.push.records import delete_bill

    with _runtime() as rt, rt.sessions() as session:
        entries = delete_bill(session, rt.pm, _bill(session, bill_id))
        queued = _send(rt, session, entries)
    tail = "deleting it in QuickBooks too" if entries else "it was never in QuickBooks"
    click.echo(f"costbridge: bill {bill_id} deleted; {tail} ({queued} push job(s) queued).")


def _bill_line(r: dict[str, Any]) -> None:
    number = r["doc_number"] or "-"
    click.echo(
        f"{r['id']:>5}  {r['date']}  {(r['vendor'] or '')[:28]:<28} {number[:12]:<12} "
        f"{r['total']:>12}  {_status_text(r)}"
    )
    for f in r["files"]:
        click.echo(f"       file {f['id']} {f['name']}: {_status_text(f)}")


_list_command(
    bills,
    Bill,
    "The project's bills: vendor, total, sync status, QuickBooks id and last error.",
    bill_json,
    _bill_line,
)


# -- invoices -----------------------------------------------------------------------------------


@click.group()
def invoices() -> None:
    """Client invoices of a project, sent to QuickBooks (markup on its own line)."""


@invoices.command("create")
@_PROJECT
@click.option("--date", "invoice_date", type=DAY, required=True, help="Invoice date, YYYY-MM-DD.")
@click.option("--due-date", type=DAY, help="Due date, YYYY-MM-DD.")
@click.option("--doc-number", help="The invoice number.")
@click.option("--memo", help="A note kept on the invoice.")
@click.option("--line", "lines", multiple=True, required=True, help="CODE=AMOUNT, repeatable.")
@click.option("--markup", default="0", help="Markup percent on every line, such as 12.5.")
@_JSON
@_fails_cleanly
def invoices_create(
    project_id: int,
    invoice_date: dt.datetime,
    due_date: dt.datetime | None,
    doc_number: str | None,
    memo: str | None,
    lines: tuple[str, ...],
    markup: str,
    as_json: bool,
) -> None:
    """Enter a client invoice; sent to QuickBooks when the project's "send invoices" is on."""
    from core.projects import get_project
    from core.push.records import create_invoice

    percent = parse_decimal(markup, "The markup", places=4, example="12.5")
    with _runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        invoice, entries = create_invoice(
            session,
            rt.pm,
            project,
            invoice_date=invoice_date.date(),
            due_date=due_date.date() if due_date else None,
            number=doc_number,
            memo=memo,
            markup_percent=percent,
            lines=_lines(session, project.company_id, lines, billable_flags=False),
        )
        _recorded(
            rt,
            session,
            entries,
            "send invoices",
            as_json,
            invoice,
            invoice_json,
            "invoice {} created",
        )


def _invoice_line(r: dict[str, Any]) -> None:
    click.echo(
        f"{r['id']:>5}  {r['date']}  {(r['doc_number'] or '-')[:12]:<12} {r['total']:>12} "
        f"{r['status']:<12} {_status_text(r)}"
    )


_list_command(
    invoices,
    Invoice,
    "The project's invoices: total with markup, paid status, sync status, QuickBooks id.",
    invoice_json,
    _invoice_line,
)


# -- time ---------------------------------------------------------------------------------------


@click.group("time")
def time_entries() -> None:
    """Time entries of a project, pushed as QuickBooks TimeActivity while time tracking is on."""


@time_entries.command("add")
@_PROJECT
@click.option("--employee", required=True, help="The employee's name (see `employees list`).")
@click.option("--date", "work_date", type=DAY, required=True, help="Day worked, YYYY-MM-DD.")
@click.option("--hours", required=True, help="Hours worked, such as 7.5.")
@click.option("--code", help="Cost code (code or name; default: the project's).")
@click.option("--billable/--not-billable", default=True, show_default=True)
@click.option("--description", help="What was done.")
@_JSON
@_fails_cleanly
def time_add(
    project_id: int,
    employee: str,
    work_date: dt.datetime,
    hours: str,
    code: str | None,
    billable: bool,
    description: str | None,
    as_json: bool,
) -> None:
    """Record hours worked; pushed only if time tracking is on now (never retroactively)."""
    from core.projects import get_project
    from core.push.records import add_time_entry

    worked = parse_decimal(hours, "The hours", example="7.5")
    if not Decimal(0) < worked <= Decimal(24):
        raise CostbridgeError(f"{hours} hours is not a day's work.", fix="Give 0.01 to 24 hours.")
    with _runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        person = _named(session, Employee, "employee", project.company_id, employee)
        entry, entries = add_time_entry(
            session,
            rt.pm,
            project,
            employee=person,
            work_date=work_date.date(),
            hours=worked,
            cost_code_id=_code(session, project.company_id, code).id if code else None,
            billable=billable,
            description=description,
        )
        _recorded(
            rt, session, entries, "time tracking", as_json, entry, time_json, "time entry {} added"
        )


def _time_line(r: dict[str, Any]) -> None:
    click.echo(
        f"{r['id']:>5}  {r['date']}  {(r['employee'] or '')[:28]:<28} {r['hours']:>7} h  "
        f"{_status_text(r)}"
    )


_list_command(
    time_entries,
    TimeEntry,
    "The project's time entries: employee, hours, sync status, QuickBooks id.",
    time_json,
    _time_line,
)
