"""Creating, editing and deleting pushable records: the calls the admin console and CLI make.

Each function changes the local record and records the push (`outbox.record_change`) in the
caller's transaction; the caller commits and then calls `core.push.queueing.enqueue_recorded`
with the returned outbox rows (the sweeper sends them anyway if it does not). A new record is
recorded for QBO only while the toggles of its push kind are on for its project; for a kind
sent only after its toggle (time entries), only when that toggle was on at the moment the record
was made (never retroactive). Which kind a record is, and its toggles, come from the plugin
that declares it (`core.push.kinds`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import tracking
from core.db import utcnow
from core.errors import NeedsAdmin
from core.errors import Rejected
from core.files import FileStore
from core.files import check_file
from core.mapping.payloads import money
from core.models import Attachment
from core.models import AttachmentOrigin
from core.models import Bill
from core.models import BillLine
from core.models import CostCode
from core.models import Employee
from core.models import Invoice
from core.models import InvoiceLine
from core.models import InvoiceStatus
from core.models import OutboxEntry
from core.models import Project
from core.models import RemoteMapping
from core.models import TimeEntry
from core.models import Vendor
from core.plugins import PluginManager
from core.project_settings import effective_settings
from core.push.kinds import PushKinds
from core.push.kinds import records_now
from core.push.outbox import record_change
from core.references import same_company


@dataclass(frozen=True)
class LineInput:
    """One bill or invoice line as entered: amount, cost code, words, billable, markup, class."""

    amount: Decimal
    cost_code_id: int | None = None
    description: str | None = None
    billable: bool = True
    markup_amount: Decimal = Decimal("0.00")
    #: The line's own QBO Class (None: the project's default).
    class_id: str | None = None


def _own_codes(session: Session, project: Project, lines: Sequence[LineInput]) -> None:
    """Every line's cost code is one of the project's company's (`core.references`)."""
    for line in lines:
        same_company(session, project.company_id, CostCode, line.cost_code_id)


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NeedsAdmin(f"There is no project {project_id}.")
    return project


def _deleted(
    session: Session, pm: PluginManager, record: Bill | Invoice | TimeEntry
) -> list[OutboxEntry]:
    """Record a record's delete (before it goes, so the outbox knows what it was), then delete."""
    entries = _recorded(record_change(session, record, "delete", pm=pm))
    session.delete(record)
    session.flush()
    return entries


def _recorded(entry: OutboxEntry | None) -> list[OutboxEntry]:
    return [entry] if entry is not None else []


def _created(
    session: Session,
    pm: PluginManager,
    project: Project,
    record: Bill | Invoice | TimeEntry | Attachment,
    created_at: dt.datetime | None = None,
) -> list[OutboxEntry]:
    """Record a new record's create, if its push kind is on for the project (see the top)."""
    kind = PushKinds.of(pm).kind_of(record)
    if kind is None or not records_now(session, pm, project, kind, created_at or utcnow()):
        return []
    return _recorded(record_change(session, record, "create", pm=pm))


# -- bills ------------------------------------------------------------------------------------


def create_bill(
    session: Session,
    pm: PluginManager,
    project: Project,
    *,
    vendor: Vendor,
    bill_date: dt.date,
    lines: Sequence[LineInput],
    number: str | None = None,
    due_date: dt.date | None = None,
    memo: str | None = None,
    qbo_location_id: str | None = None,
) -> tuple[Bill, list[OutboxEntry]]:
    """A new bill; recorded for QBO when its push kind is on. Returns it and its outbox rows.

    `qbo_location_id` and each line's `class_id` override the project's defaults; each must be
    one of the company's active QBO locations/classes (`core.tracking`).
    """
    same_company(session, project.company_id, Vendor, vendor.id)
    _own_codes(session, project, lines)
    _check_tracking(session, project.company_id, lines, qbo_location_id)
    bill = Bill(
        project_id=project.id,
        vendor_id=vendor.id,
        bill_date=bill_date,
        due_date=due_date,
        number=number,
        memo=memo,
        qbo_location_id=qbo_location_id,
    )
    bill.lines = _bill_lines(lines)
    session.add(bill)
    session.flush()
    return bill, _created(session, pm, project, bill)


def _bill_lines(lines: Sequence[LineInput]) -> list[BillLine]:
    return [
        BillLine(
            position=i,
            amount=line.amount,
            cost_code_id=line.cost_code_id,
            description=line.description,
            billable=line.billable,
            qbo_class_id=line.class_id,
        )
        for i, line in enumerate(lines)
    ]


def _check_tracking(
    session: Session,
    company_id: int,
    lines: Sequence[LineInput] | None,
    location_id: str | None,
    class_id: str | None = None,
) -> None:
    """Refuse a class or location that is not one of the company's active ones in QBO."""
    for line in lines or ():
        tracking.check_id(session, company_id, "class", line.class_id)
    tracking.check_id(session, company_id, "class", class_id)
    tracking.check_id(session, company_id, "location", location_id)


def edit_bill(
    session: Session,
    pm: PluginManager,
    bill: Bill,
    *,
    lines: Sequence[LineInput] | None = None,
    **fields: Any,
) -> list[OutboxEntry]:
    """Change a bill (`vendor_id`, `bill_date`, `due_date`, `number`, `memo`,
    `qbo_location_id`, lines)."""
    allowed = {"vendor_id", "bill_date", "due_date", "number", "memo", "qbo_location_id"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"bills have no field {sorted(unknown)[0]!r}")
    company_id = _project(session, bill.project_id).company_id
    if "vendor_id" in fields:
        same_company(session, company_id, Vendor, fields["vendor_id"])
    if lines is not None:
        _own_codes(session, _project(session, bill.project_id), lines)
    _check_tracking(session, company_id, lines, fields.get("qbo_location_id"))
    for key, value in fields.items():
        setattr(bill, key, value)
    if lines is not None:
        bill.lines = _bill_lines(lines)
    bill.updated_at = utcnow()
    session.flush()
    return _recorded(record_change(session, bill, "update", pm=pm))


def delete_bill(session: Session, pm: PluginManager, bill: Bill) -> list[OutboxEntry]:
    """Delete a bill here; in QBO too if it was sent (refused there once it is paid)."""
    return _deleted(session, pm, bill)


def attach_file(
    session: Session,
    pm: PluginManager,
    store: FileStore,
    bill: Bill,
    *,
    file_name: str,
    content: bytes,
    content_type: str | None,
) -> tuple[Attachment, list[OutboxEntry]]:
    """Attach a file to a bill; it goes up once the bill is in QBO, when its push kind is on.

    Raises:
        Rejected: QuickBooks would refuse the file's type or size (the message says which).
    """
    name, ctype = check_file(file_name, content_type, len(content))
    key, digest = store.put(content)
    file = Attachment(
        project_id=bill.project_id,
        bill_id=bill.id,
        origin=AttachmentOrigin.LOCAL,
        read_only=False,
        file_name=name,
        content_type=ctype,
        size=len(content),
        sha256=digest,
        storage_key=key,
    )
    session.add(file)
    session.flush()
    return file, _created(session, pm, _project(session, bill.project_id), file)


def remove_file(session: Session, file: Attachment) -> None:
    """Remove a local file; files pulled from QBO are read-only and cannot be removed here."""
    if file.read_only or file.origin == AttachmentOrigin.QBO:
        raise Rejected(
            "This file came from QuickBooks and is read-only here.",
            fix="Remove it from the bill in QuickBooks; the next pull removes it here.",
        )
    session.delete(file)
    session.flush()


# -- invoices ---------------------------------------------------------------------------------


def create_invoice(
    session: Session,
    pm: PluginManager,
    project: Project,
    *,
    invoice_date: dt.date,
    lines: Sequence[LineInput],
    number: str | None = None,
    due_date: dt.date | None = None,
    memo: str | None = None,
    markup_percent: Decimal = Decimal("0"),
    qbo_location_id: str | None = None,
) -> tuple[Invoice, list[OutboxEntry]]:
    """A new client invoice; sent to QBO when its push kind is on (then its status is sent).

    With `markup_percent` and no per-line markup, each line's markup is its amount times the
    percent, rounded half-up to cents. `qbo_location_id` and each line's `class_id` override
    the project's defaults.
    """
    _own_codes(session, project, lines)
    _check_tracking(session, project.company_id, lines, qbo_location_id)
    invoice = Invoice(
        qbo_location_id=qbo_location_id,
        project_id=project.id,
        invoice_date=invoice_date,
        due_date=due_date,
        number=number,
        memo=memo,
        markup_percent=markup_percent,
        status=InvoiceStatus.DRAFT,
    )
    invoice.lines = _invoice_lines(lines, markup_percent)
    session.add(invoice)
    session.flush()
    entries = _created(session, pm, project, invoice)
    if entries:
        invoice.status = InvoiceStatus.SENT
    return invoice, entries


def _invoice_lines(lines: Sequence[LineInput], markup_percent: Decimal) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            position=i,
            amount=line.amount,
            cost_code_id=line.cost_code_id,
            description=line.description,
            markup_amount=line.markup_amount or money(line.amount * markup_percent / Decimal(100)),
            qbo_class_id=line.class_id,
        )
        for i, line in enumerate(lines)
    ]


#: Statuses only a payment recorded in QBO gives an integrated invoice (`invoice_status`).
PAID_IN_QBO = (InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID)


def edit_invoice(
    session: Session,
    pm: PluginManager,
    invoice: Invoice,
    *,
    lines: Sequence[LineInput] | None = None,
    **fields: Any,
) -> list[OutboxEntry]:
    """Change an invoice (`invoice_date`, `due_date`, `number`, `memo`, `markup_percent`,
    `qbo_location_id`, lines).

    Each edit of a sent invoice is its own logical write with its own idempotency key (an edit
    made while an earlier one still waits rides on it). New lines take their markup from
    `markup_percent` (the new one when given) unless they carry their own.

    Raises:
        NeedsAdmin: The invoice is integrated and QBO says it is paid or partly paid (QBO keeps
            the paid invoice; the push would refuse the edit there too).
        ValueError: An unknown field.
    """
    allowed = {"invoice_date", "due_date", "number", "memo", "markup_percent", "qbo_location_id"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"invoices have no field {sorted(unknown)[0]!r}")
    company_id = _project(session, invoice.project_id).company_id
    _check_tracking(session, company_id, lines, fields.get("qbo_location_id"))
    if invoice.status in PAID_IN_QBO and integrated(session, pm, invoice):
        raise NeedsAdmin(
            "This invoice has been paid (fully or partly) in QuickBooks, so it cannot be "
            "changed here.",
            fix="Make the change in QuickBooks, or remove the payment there first; the next "
            "sync brings its status back here.",
        )
    if lines is not None:
        _own_codes(session, _project(session, invoice.project_id), lines)
    for key, value in fields.items():
        setattr(invoice, key, value)
    if lines is not None:
        invoice.lines = _invoice_lines(lines, invoice.markup_percent)
    invoice.updated_at = utcnow()
    session.flush()
    return _recorded(record_change(session, invoice, "update", pm=pm))


def integrated(session: Session, pm: PluginManager, invoice: Invoice) -> bool:
    """Whether only QBO may decide this invoice's paid status (its push kind on, and sent)."""
    project = _project(session, invoice.project_id)
    kind = PushKinds.of(pm).kind_of(invoice)
    if kind is None or not kind.switched_on(effective_settings(pm, project)):
        return False
    sent = session.scalar(
        select(OutboxEntry.id).where(
            OutboxEntry.local_kind == kind.name, OutboxEntry.local_id == invoice.id
        )
    )
    return sent is not None


def mark_invoice_paid(session: Session, pm: PluginManager, invoice: Invoice) -> None:
    """Mark an invoice paid by hand; refused for integrated invoices (QBO decides those).

    Raises:
        NeedsAdmin: The invoice is integrated with QuickBooks.
    """
    if integrated(session, pm, invoice):
        raise NeedsAdmin(
            "This invoice is integrated with QuickBooks, so it can only be marked paid there.",
            fix="Record the customer's payment in QuickBooks; the next sync marks it paid here.",
        )
    invoice.status = InvoiceStatus.PAID
    invoice.balance = Decimal("0.00")


def delete_invoice(session: Session, pm: PluginManager, invoice: Invoice) -> list[OutboxEntry]:
    """Delete an invoice here, and in QBO if it was sent and nothing was paid on it."""
    return _deleted(session, pm, invoice)


# -- time -------------------------------------------------------------------------------------


def add_time_entry(
    session: Session,
    pm: PluginManager,
    project: Project,
    *,
    employee: Employee,
    work_date: dt.date,
    hours: Decimal,
    cost_code_id: int | None = None,
    billable: bool = True,
    description: str | None = None,
    qbo_class_id: str | None = None,
    qbo_location_id: str | None = None,
) -> tuple[TimeEntry, list[OutboxEntry]]:
    """A new time entry; pushed only when its push kind is on now (never retroactively).

    `qbo_class_id` and `qbo_location_id` override the project's defaults.
    """
    same_company(session, project.company_id, Employee, employee.id)
    same_company(session, project.company_id, CostCode, cost_code_id)
    _check_tracking(session, project.company_id, None, qbo_location_id, qbo_class_id)
    now = utcnow()
    entry = TimeEntry(
        project_id=project.id,
        employee_id=employee.id,
        cost_code_id=cost_code_id,
        work_date=work_date,
        hours=hours,
        billable=billable,
        description=description,
        qbo_class_id=qbo_class_id,
        qbo_location_id=qbo_location_id,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    return entry, _created(session, pm, project, entry, created_at=now)


def edit_time_entry(
    session: Session, pm: PluginManager, entry: TimeEntry, **fields: Any
) -> list[OutboxEntry]:
    """Change a time entry (`work_date`, `hours`, `cost_code_id`, `billable`, `description`,
    `employee_id`, `qbo_class_id`, `qbo_location_id`)."""
    allowed = {
        "work_date",
        "hours",
        "cost_code_id",
        "billable",
        "description",
        "employee_id",
        "qbo_class_id",
        "qbo_location_id",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"time entries have no field {sorted(unknown)[0]!r}")
    company_id = _project(session, entry.project_id).company_id
    if "employee_id" in fields:
        same_company(session, company_id, Employee, fields["employee_id"])
    if "cost_code_id" in fields:
        same_company(session, company_id, CostCode, fields["cost_code_id"])
    _check_tracking(
        session,
        company_id,
        None,
        fields.get("qbo_location_id"),
        fields.get("qbo_class_id"),
    )
    for key, value in fields.items():
        setattr(entry, key, value)
    session.flush()
    return _recorded(record_change(session, entry, "update", pm=pm))


def delete_time_entry(session: Session, pm: PluginManager, entry: TimeEntry) -> list[OutboxEntry]:
    """Delete a time entry here, and its TimeActivity in QBO if it was sent."""
    return _deleted(session, pm, entry)


def qbo_id_of(session: Session, local_kind: str, local_id: int) -> str | None:
    """The QBO id a local record became, by its push kind and local id."""
    return session.scalar(
        select(RemoteMapping.qbo_id).where(
            RemoteMapping.local_kind == local_kind, RemoteMapping.local_id == local_id
        )
    )
