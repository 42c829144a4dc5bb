"""`costbridge cost-codes|vendors|employees|bills|invoices|time|outbox`: the push, from a terminal.

For support staff and scripted imports. Every command calls what the admin console calls
(`core.catalog_import`, `core.push.records`, `core.push.outbox`), commits, and then queues the
recorded pushes (`core.jobs.tasks.enqueue_recorded`; the sweeper sends them if Redis is away).
Amounts are read as exact decimals and never rounded: "12.345" is refused, not made 12.35.
Names (vendors, employees, cost codes) match whatever their case or accents' composition; an
unknown one is refused naming the closest. Errors and `--json` as in `core.cli_sync`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import click
from sqlalchemy import select

from core.cli_sync import _client
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
from core.models import OutboxState
from core.models import TimeEntry
from core.models import Vendor
from core.push.records import LineInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.runtime import Runtime

__all__ = ["bills", "cost_codes", "employees", "invoices", "outbox", "time_entries", "vendors"]

T = TypeVar("T")
M = TypeVar("M", CostCode, Vendor, Employee)
DAY = click.DateTime(formats=["%Y-%m-%d"])
_NUMBER = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?")
_JSON = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
_PROJECT = click.option("--project", "project_id", type=int, required=True, help="Project id.")
_COMPANY = click.option("--company", "company_id", type=int, required=True, help="Company id.")


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


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


def pick(what: str, wanted: str, named: Sequence[tuple[str, T]], listing: str) -> T:
    """The one record called `wanted` among `(name, record)` pairs, or an error naming the closest.

    A name matches exactly, or else ignoring case and Unicode composition; a name several records
    share is refused with the ask to use the record's id.
    """
    exact = [r for n, r in named if n == wanted]
    found = exact or [r for n, r in named if _fold(n) == _fold(wanted)]
    if len(found) == 1:
        return found[0]
    if found:
        raise CostbridgeError(
            f"{len(found)} {what}s are called “{wanted}”.",
            fix=f"Rename one of them, then try again (`costbridge {listing}`).",
        )
    names = sorted({n for n, _ in named}, key=str.casefold)
    by_fold = {_fold(n): n for n in names}
    close = difflib.get_close_matches(_fold(wanted), list(by_fold), n=5, cutoff=0.6)
    close += [f for f in by_fold if _fold(wanted) in f and f not in close][: 5 - len(close)]
    hint = (
        "Did you mean: " + ", ".join(f"“{by_fold[c]}”" for c in close) + "?"
        if close
        else f"Run `costbridge {listing}` to see them."
    )
    raise CostbridgeError(f"No {what} is called “{wanted}”.", fix=hint)


def _of_company(session: Session, model: type[M], company_id: int) -> list[M]:
    return list(
        session.scalars(select(model).where(model.company_id == company_id).order_by(model.id))
    )


def _code(session: Session, company_id: int, wanted: str) -> CostCode:
    codes = _of_company(session, CostCode, company_id)
    by_code = [(c.code, c) for c in codes]
    try:
        return pick("cost code", wanted, by_code, f"cost-codes list --company {company_id}")
    except CostbridgeError:
        named = [(c.name, c) for c in codes]
        if any(_fold(n) == _fold(wanted) for n, _ in named):
            return pick("cost code", wanted, named, f"cost-codes list --company {company_id}")
        raise


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


def _send(rt: Runtime, session: Session, entries: Sequence[OutboxEntry]) -> int:
    """Commit, then queue the recorded pushes; how many jobs were queued."""
    from core.jobs.tasks import enqueue_recorded

    session.commit()
    session.expire_all()  # what is shown next is what was stored (7.5 hours: "7.50")
    return enqueue_recorded(rt, entries)


def _sent_words(recorded: int, queued: int, toggle: str) -> str:
    if not recorded:
        return f"not recorded for QuickBooks (“{toggle}” is off, or a waiting change carries it)"
    return f"{recorded} change(s) recorded for QuickBooks, {queued} push job(s) queued"


# -- what the lists show ------------------------------------------------------------------------


def sync_json(session: Session, kind: str, local_id: int) -> dict[str, Any]:
    """A record's latest recorded push: its state, the QBO id it became, the last error."""
    from core.push.records import qbo_id_of

    row = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.local_kind == kind, OutboxEntry.local_id == local_id)
        .order_by(OutboxEntry.id.desc())
        .limit(1)
    ).first()
    return {
        "sync_status": row.state.value if row else "not_recorded",
        "outbox_id": row.id if row else None,
        "qbo_id": qbo_id_of(session, kind, local_id),
        "last_error": row.last_error if row else None,
        "fix": row.fix if row else None,
    }


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


def _status_text(row: dict[str, Any]) -> str:
    state = str(row["sync_status"]).replace("_", " ")
    qbo = f"QBO {row['qbo_id']}" if row["qbo_id"] else "not in QBO"
    error = f"  !! {row['last_error']} {row['fix'] or ''}".rstrip() if row["last_error"] else ""
    return f"{state:<12} {qbo}{error}"


# -- catalog: cost codes, vendors, employees ------------------------------------------------------


@click.group("cost-codes")
def cost_codes() -> None:
    """Cost codes: QuickBooks Products & Services (items) and their accounts."""


def _import(company_id: int, as_json: bool, what: str, run: Any) -> None:
    from core.projects import get_company

    with _runtime() as rt, rt.sessions() as session:
        company = get_company(session, company_id)
        report = run(session, _client(rt, company), company.id)
        session.commit()
    if as_json:
        _dump(report.as_dict())
        return
    click.echo(
        f"costbridge: {what} imported from QuickBooks: {report.added} added, "
        f"{report.connected} connected by name, {report.updated} updated."
    )
    for code, problem in report.flagged.items():
        click.echo(f"!! cost code {code}: {problem}", err=True)


@cost_codes.command("import")
@_COMPANY
@_JSON
@_fails_cleanly
def cost_codes_import(company_id: int, as_json: bool) -> None:
    """QuickBooks Service and Non-inventory items become connected cost codes."""
    from core.catalog_import import import_cost_codes

    _import(company_id, as_json, "cost codes", import_cost_codes)


@cost_codes.command("list")
@_COMPANY
@_JSON
@_fails_cleanly
def cost_codes_list(company_id: int, as_json: bool) -> None:
    """The company's cost codes: item, accounts, and what QuickBooks still needs turned on."""
    with _runtime() as rt, rt.sessions() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": c.id,
                "code": c.code,
                "name": c.name,
                "qbo_item_id": c.qbo_item_id,
                "qbo_item_name": c.qbo_item_name,
                "income_account": c.income_account_name,
                "expense_account": c.expense_account_name,
                "sells": c.sells,
                "purchases": c.purchases,
                "active": c.active,
                "problem": c.usability_problem(),
            }
            for c in _of_company(session, CostCode, company_id)
        ]
    if as_json:
        _dump(rows)
        return
    for r in rows:
        item = f"item {r['qbo_item_id']}" if r["qbo_item_id"] else "no item"
        accounts = f"income {r['income_account'] or '-'} / expense {r['expense_account'] or '-'}"
        click.echo(f"{r['id']:>5}  {r['code']:<16} {r['name'][:28]:<28} {item:<10} {accounts}")
        if r["problem"]:
            click.echo(f"       !! {r['problem']}")


def _people(model: Any, id_column: str, company_id: int, as_json: bool) -> None:
    with _runtime() as rt, rt.sessions() as session:
        rows = [
            {"id": p.id, "name": p.name, "qbo_id": getattr(p, id_column)}
            | (
                {"cost_rate": None if p.cost_rate is None else str(p.cost_rate)}
                if model is Employee
                else {}
            )
            for p in _of_company(session, model, company_id)
        ]
    if as_json:
        _dump(rows)
        return
    for r in rows:
        qbo = f"QBO {r['qbo_id']}" if r["qbo_id"] else "not connected"
        click.echo(f"{r['id']:>5}  {r['name']:<40} {qbo}")


@click.group()
def vendors() -> None:
    """Vendors and their QuickBooks vendors (bill pushes need the connection)."""


@vendors.command("import")
@_COMPANY
@_JSON
@_fails_cleanly
def vendors_import(company_id: int, as_json: bool) -> None:
    """QuickBooks vendors become local vendors connected to them."""
    from core.catalog_import import import_vendors

    _import(company_id, as_json, "vendors", import_vendors)


@vendors.command("list")
@_COMPANY
@_JSON
@_fails_cleanly
def vendors_list(company_id: int, as_json: bool) -> None:
    """The company's vendors and the QuickBooks vendor each is connected to."""
    _people(Vendor, "qbo_vendor_id", company_id, as_json)


@click.group()
def employees() -> None:
    """Employees and their QuickBooks employees (time pushes need the connection)."""


@employees.command("import")
@_COMPANY
@_JSON
@_fails_cleanly
def employees_import(company_id: int, as_json: bool) -> None:
    """QuickBooks employees become local employees connected to them, with their cost rate."""
    from core.catalog_import import import_employees

    _import(company_id, as_json, "employees", import_employees)


@employees.command("list")
@_COMPANY
@_JSON
@_fails_cleanly
def employees_list(company_id: int, as_json: bool) -> None:
    """The company's employees, their QuickBooks employee and cost rate."""
    _people(Employee, "qbo_employee_id", company_id, as_json)


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


def _vendor(session: Session, company_id: int, name: str) -> Vendor:
    named = [(v.name, v) for v in _of_company(session, Vendor, company_id)]
    return pick("vendor", name, named, f"vendors list --company {company_id}")


def _bill(session: Session, bill_id: int) -> Bill:
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise CostbridgeError(
            f"There is no bill {bill_id}.", fix="Run `costbridge bills list --project ID`."
        )
    return bill


def _done(as_json: bool, data: dict[str, Any], words: str) -> None:
    if as_json:
        _dump(data)
    else:
        click.echo(f"costbridge: {words}.")


@bills.command("create")
@_PROJECT
@click.option("--vendor", required=True, help="The vendor's name (see `vendors list`).")
@click.option("--date", "bill_date", type=DAY, required=True, help="Bill date, YYYY-MM-DD.")
@click.option("--due-date", type=DAY, help="Due date, YYYY-MM-DD.")
@click.option("--doc-number", help="The vendor's bill number.")
@click.option("--memo", help="A note kept on the bill.")
@click.option("--line", "lines", multiple=True, required=True, help=_LINE_HELP)
@_ATTACH
@_JSON
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
            vendor=_vendor(session, project.company_id, vendor),
            bill_date=bill_date.date(),
            due_date=due_date.date() if due_date else None,
            number=doc_number,
            memo=memo,
            lines=_lines(session, project.company_id, lines, billable_flags=True),
        )
        entries += _attach(rt, session, bill, files)
        queued = _send(rt, session, entries)
        words = _sent_words(len(entries), queued, "push bills")
        _done(as_json, bill_json(session, bill), f"bill {bill.id} created; {words}")


@bills.command("edit")
@click.argument("bill_id", type=int)
@click.option("--vendor", help="The vendor's name.")
@click.option("--date", "bill_date", type=DAY, help="Bill date, YYYY-MM-DD.")
@click.option("--due-date", type=DAY, help="Due date, YYYY-MM-DD.")
@click.option("--doc-number", help="The vendor's bill number.")
@click.option("--memo", help="A note kept on the bill.")
@click.option("--line", "lines", multiple=True, help=_LINE_HELP + " Replaces every line.")
@_ATTACH
@_JSON
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
            fields["vendor_id"] = _vendor(session, company_id, vendor).id
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
        entries = edit_bill(session, bill, lines=new_lines, **fields) if fields or lines else []
        entries += _attach(rt, session, bill, files)
        queued = _send(rt, session, entries)
        words = _sent_words(len(entries), queued, "push bills")
        _done(as_json, bill_json(session, bill), f"bill {bill.id} saved; {words}")


@bills.command("delete")
@click.argument("bill_id", type=int)
@_fails_cleanly
def bills_delete(bill_id: int) -> None:
    """Delete a bill here, and in QuickBooks if it was sent (refused there once it is paid)."""
    from core.push.records import delete_bill

    with _runtime() as rt, rt.sessions() as session:
        entries = delete_bill(session, _bill(session, bill_id))
        queued = _send(rt, session, entries)
    tail = "deleting it in QuickBooks too" if entries else "it was never in QuickBooks"
    click.echo(f"costbridge: bill {bill_id} deleted; {tail} ({queued} push job(s) queued).")


@bills.command("list")
@_PROJECT
@_JSON
@_fails_cleanly
def bills_list(project_id: int, as_json: bool) -> None:
    """The project's bills: vendor, total, sync status, QuickBooks id and last error."""
    from core.projects import get_project

    with _runtime() as rt, rt.sessions() as session:
        get_project(session, project_id)
        rows = [
            bill_json(session, b)
            for b in session.scalars(
                select(Bill).where(Bill.project_id == project_id).order_by(Bill.id)
            )
        ]
    if as_json:
        _dump(rows)
        return
    for r in rows:
        number = r["doc_number"] or "-"
        click.echo(
            f"{r['id']:>5}  {r['date']}  {(r['vendor'] or '')[:28]:<28} {number[:12]:<12} "
            f"{r['total']:>12}  {_status_text(r)}"
        )
        for f in r["files"]:
            click.echo(f"       file {f['id']} {f['name']}: {_status_text(f)}")


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
        queued = _send(rt, session, entries)
        words = _sent_words(len(entries), queued, "send invoices")
        _done(as_json, invoice_json(session, invoice), f"invoice {invoice.id} created; {words}")


@invoices.command("list")
@_PROJECT
@_JSON
@_fails_cleanly
def invoices_list(project_id: int, as_json: bool) -> None:
    """The project's invoices: total with markup, paid status, sync status, QuickBooks id."""
    from core.projects import get_project

    with _runtime() as rt, rt.sessions() as session:
        get_project(session, project_id)
        rows = [
            invoice_json(session, i)
            for i in session.scalars(
                select(Invoice).where(Invoice.project_id == project_id).order_by(Invoice.id)
            )
        ]
    if as_json:
        _dump(rows)
        return
    for r in rows:
        click.echo(
            f"{r['id']:>5}  {r['date']}  {(r['doc_number'] or '-')[:12]:<12} {r['total']:>12} "
            f"{r['status']:<12} {_status_text(r)}"
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
        people = [(e.name, e) for e in _of_company(session, Employee, project.company_id)]
        person = pick(
            "employee", employee, people, f"employees list --company {project.company_id}"
        )
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
        queued = _send(rt, session, entries)
        words = _sent_words(len(entries), queued, "time tracking")
        _done(as_json, time_json(session, entry), f"time entry {entry.id} added; {words}")


@time_entries.command("list")
@_PROJECT
@_JSON
@_fails_cleanly
def time_list(project_id: int, as_json: bool) -> None:
    """The project's time entries: employee, hours, sync status, QuickBooks id."""
    from core.projects import get_project

    with _runtime() as rt, rt.sessions() as session:
        get_project(session, project_id)
        rows = [
            time_json(session, e)
            for e in session.scalars(
                select(TimeEntry).where(TimeEntry.project_id == project_id).order_by(TimeEntry.id)
            )
        ]
    if as_json:
        _dump(rows)
        return
    for r in rows:
        click.echo(
            f"{r['id']:>5}  {r['date']}  {(r['employee'] or '')[:28]:<28} {r['hours']:>7} h  "
            f"{_status_text(r)}"
        )


# -- outbox -------------------------------------------------------------------------------------


@click.group()
def outbox() -> None:
    """Changes waiting for, sent to or refused by QuickBooks; retry and cancel them."""


@outbox.command("list")
@click.option("--state", type=click.Choice([s.value for s in OutboxState]), help="Only these.")
@click.option("--company", "company_id", type=int, help="Only this company's.")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(min=1))
@_JSON
@_fails_cleanly
def outbox_list(state: str | None, company_id: int | None, limit: int, as_json: bool) -> None:
    """Outbox rows, newest first, with the QuickBooks id each produced and the last error."""
    from dataclasses import asdict

    from core.push.outbox import list_outbox

    with _runtime() as rt, rt.sessions() as session:
        rows = list_outbox(session, state=state, company_id=company_id, limit=limit)
    if as_json:
        _dump([asdict(r) for r in rows])
        return
    for r in rows:
        qbo = f"QBO {r.qbo_id}" if r.qbo_id else "-"
        error = f"  !! {r.last_error} {r.fix or ''}".rstrip() if r.last_error else ""
        click.echo(
            f"{r.id:>6}  {r.state:<11} {r.operation:<6} {r.entity:<12} {r.local_kind} "
            f"{r.local_id:<6} tries {r.attempts}  {qbo}{error}"
        )


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--failed", is_flag=True, help="Every failed or refused row.")
@click.option("--company", "company_id", type=int, help="With --failed: only this company's.")
@_fails_cleanly
def outbox_retry(ids: tuple[int, ...], failed: bool, company_id: int | None) -> None:
    """Send failed, refused or unknown rows again (an unknown one is looked up in QBO first)."""
    from core.push.outbox import retry
    from core.push.outbox import retry_failed

    if bool(ids) == failed:
        raise CostbridgeError("Say what to retry.", fix="Give outbox row ids, or --failed.")
    with _runtime() as rt, rt.sessions() as session:
        known = set(session.scalars(select(OutboxEntry.id).where(OutboxEntry.id.in_(ids))))
        missing = [i for i in ids if i not in known]
        if missing:
            raise CostbridgeError(
                f"There is no outbox row {missing[0]}.", fix="Run `costbridge outbox list`."
            )
        again = retry_failed(session, company_id=company_id) if failed else retry(session, ids)
        for row_id in sorted(set(ids) - {r.id for r in again}):
            row = session.get(OutboxEntry, row_id)
            state = row.state.value.replace("_", " ") if row else "gone"
            click.echo(f"!! outbox row {row_id} is {state}: not sent again.", err=True)
        queued = _send(rt, session, again)
    click.echo(f"costbridge: {len(again)} row(s) put back to be sent, {queued} push job(s) queued.")


@outbox.command("cancel")
@click.argument("outbox_id", type=int)
@_fails_cleanly
def outbox_cancel(outbox_id: int) -> None:
    """Never send a row (refused while it is being sent, or once it was sent)."""
    from core.push.outbox import cancel

    with _runtime() as rt, rt.sessions() as session:
        row = cancel(session, outbox_id)
        session.commit()
        click.echo(
            f"costbridge: outbox row {row.id} ({row.operation} {row.entity}) cancelled; "
            "it will not be sent."
        )
