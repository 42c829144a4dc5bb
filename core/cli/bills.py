"""`costbridge bills create|edit|delete|list`: vendor bills, pushed to QuickBooks as unpaid bills.

Every command calls what the admin console calls (`core.push.records`), commits, then queues the
recorded pushes (the sweeper sends them if Redis is away). Amounts are read as exact decimals and
never rounded; vendors and cost codes are found by name (`core.cli.common`).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import click
from sqlalchemy import select

from core.cli.common import CLASS
from core.cli.common import DAY
from core.cli.common import JSON
from core.cli.common import LOCATION
from core.cli.common import PROJECT
from core.cli.common import code_text
from core.cli.common import document_lines
from core.cli.common import fails_cleanly
from core.cli.common import find_named
from core.cli.common import list_command
from core.cli.common import project_records
from core.cli.common import recorded
from core.cli.common import runtime
from core.cli.common import send
from core.cli.common import status_text
from core.cli.common import sync_json
from core.cli.common import tag_id
from core.errors import CostbridgeError
from core.models import Attachment
from core.models import Bill
from core.models import OutboxEntry
from core.models import Vendor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.runtime import Runtime

__all__ = ["bill_json", "bills"]

F = TypeVar("F", bound=Callable[..., Any])


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
        "location_id": bill.qbo_location_id,
        "total": str(sum((line.amount for line in bill.lines), Decimal("0.00"))),
        "lines": [
            {
                "code": code_text(session, line.cost_code_id),
                "amount": str(line.amount),
                "billable": line.billable,
                "description": line.description,
                "class_id": line.qbo_class_id,
            }
            for line in bill.lines
        ],
        "files": [
            {"id": f.id, "name": f.file_name, "origin": f.origin.value} | sync_json(session, f)
            for f in files
        ],
        **sync_json(session, bill),
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
        CLASS,
        LOCATION,
        _ATTACH,
        JSON,
    ]

    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


@bills.command("create")
@PROJECT
@_bill_options(create=True)
@fails_cleanly
def bills_create(
    project_id: int,
    vendor: str,
    bill_date: dt.datetime,
    due_date: dt.datetime | None,
    doc_number: str | None,
    memo: str | None,
    lines: tuple[str, ...],
    class_name: str | None,
    location_name: str | None,
    files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Enter a bill; pushed to QuickBooks when the project's "push bills" is on."""
    from core.projects import get_project
    from core.push.records import create_bill

    with runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        klass = tag_id(rt, session, project.company_id, "class", class_name)
        entered = document_lines(session, project.company_id, lines, billable_flags=True)
        bill, entries = create_bill(
            session,
            rt.pm,
            project,
            vendor=find_named(session, Vendor, "vendor", project.company_id, vendor),
            bill_date=bill_date.date(),
            due_date=due_date.date() if due_date else None,
            number=doc_number,
            memo=memo,
            lines=[replace(line, class_id=klass) for line in entered],
            qbo_location_id=tag_id(rt, session, project.company_id, "location", location_name),
        )
        _attach_and_report(rt, session, bill, entries, files, as_json, "bill {} created")


def _attach_and_report(
    rt: Any,
    session: Session,
    bill: Bill,
    entries: list[Any],
    files: Any,
    as_json: bool,
    done: str,
) -> None:
    """Record the bill's new files, queue its pushes and say what was saved (create and edit)."""
    entries += _attach(rt, session, bill, files)
    recorded(
        rt,
        session,
        entries,
        toggle="push bills",
        as_json=as_json,
        record=bill,
        to_json=bill_json,
        done=done,
    )


@bills.command("edit")
@click.argument("bill_id", type=int)
@_bill_options(create=False)
@fails_cleanly
def bills_edit(
    bill_id: int,
    vendor: str | None,
    bill_date: dt.datetime | None,
    due_date: dt.datetime | None,
    doc_number: str | None,
    memo: str | None,
    lines: tuple[str, ...],
    class_name: str | None,
    location_name: str | None,
    files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Change a bill (the lines given replace all of its lines) or attach more files.

    `--class` sets the class of every line (the new ones, or else the bill's own).
    """
    from core.projects import get_project
    from core.push.records import edit_bill

    with runtime() as rt, rt.sessions() as session:
        bill = _bill(session, bill_id)
        company_id = get_project(session, bill.project_id).company_id
        fields: dict[str, Any] = {}
        if vendor is not None:
            fields["vendor_id"] = find_named(session, Vendor, "vendor", company_id, vendor).id
        if bill_date is not None:
            fields["bill_date"] = bill_date.date()
        if due_date is not None:
            fields["due_date"] = due_date.date()
        if doc_number is not None:
            fields["number"] = doc_number or None
        if memo is not None:
            fields["memo"] = memo or None
        if location_name is not None:
            fields["qbo_location_id"] = tag_id(rt, session, company_id, "location", location_name)
        new_lines = (
            document_lines(session, company_id, lines, billable_flags=True) if lines else None
        )
        if class_name is not None:
            klass = tag_id(rt, session, company_id, "class", class_name)
            new_lines = [replace(line, class_id=klass) for line in (new_lines or _lines_of(bill))]
        if not fields and new_lines is None and not files:
            raise CostbridgeError(
                "Nothing to change.",
                fix="Give --vendor, --date, --line, --class, --attach or another option.",
            )
        entries = (
            edit_bill(session, rt.pm, bill, lines=new_lines, **fields)
            if fields or new_lines is not None
            else []
        )
        _attach_and_report(rt, session, bill, entries, files, as_json, "bill {} saved")


def _lines_of(bill: Bill) -> list[Any]:
    """A bill's stored lines as entered (`LineInput`s, to change only their class)."""
    from core.push.records import LineInput

    return [
        LineInput(
            amount=line.amount,
            cost_code_id=line.cost_code_id,
            description=line.description,
            billable=line.billable,
            class_id=line.qbo_class_id,
        )
        for line in bill.lines
    ]


@bills.command("delete")
@click.argument("bill_id", type=int)
@fails_cleanly
def bills_delete(bill_id: int) -> None:
    """Delete a bill here, and in QuickBooks if it was sent (refused there once it is paid)."""
    from core.push.records import delete_bill

    with runtime() as rt, rt.sessions() as session:
        entries = delete_bill(session, rt.pm, _bill(session, bill_id))
        queued = send(rt, session, entries)
    tail = "deleting it in QuickBooks too" if entries else "it was never in QuickBooks"
    click.echo(f"costbridge: bill {bill_id} deleted; {tail} ({queued} push job(s) queued).")


def _bill_line(r: dict[str, Any]) -> None:
    number = r["doc_number"] or "-"
    click.echo(
        f"{r['id']:>5}  {r['date']}  {(r['vendor'] or '')[:28]:<28} {number[:12]:<12} "
        f"{r['total']:>12}  {status_text(r)}"
    )
    for f in r["files"]:
        click.echo(f"       file {f['id']} {f['name']}: {status_text(f)}")


list_command(
    bills,
    "The project's bills: vendor, total, sync status, QuickBooks id and last error.",
    per="project",
    rows=project_records(Bill, bill_json),
    echo=_bill_line,
)
