"""The core's local record readers: an ORM row in, the frozen value a push mapper sees out.

A plugin's `PushKindSpec.record` names one of these. The core owns its local tables, so it owns
how they are read; which kind a row becomes, which QBO entity and which toggles gate it, come
from the plugins' declarations (`core.push.kinds`). The record names are the tables' own names,
and `file` for an attached file (it goes up under the record it is attached to).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import LocalBill
from core.contracts import LocalBillLine
from core.contracts import LocalFile
from core.contracts import LocalInvoice
from core.contracts import LocalInvoiceLine
from core.contracts import LocalRecord
from core.contracts import LocalTimeEntry
from core.models import Attachment
from core.models import Bill
from core.models import Employee
from core.models import Invoice
from core.models import TimeEntry
from core.models import Vendor

#: Where a record's parent is in QBO: (record name, local id) -> (QBO entity, QBO id), or None.
ParentInQbo = Callable[[str, int], tuple[str, str] | None]
#: Record name of an attached file.
FILE = "file"


@dataclass(frozen=True)
class RecordReader:
    """How the core reads one kind of local record.

    Attributes:
        name: The record name a `PushKindSpec.record` gives.
        model: The ORM class of its rows (`kind_of` finds a row's reader by it).
        load: Reads a row by id into its frozen value; None when the row is gone (or, for a
            file, no longer attached to anything).
        booked_on: The date QBO books the record on (checked against closed books), if any.
        parent: For a record that goes up under another one (a file): the parent's record name
            and the column of `model` holding its id.
        uploads: The record is a file whose content is uploaded (not a JSON body).
    """

    name: str
    model: type[Any]
    load: Callable[[Session, int, ParentInQbo], LocalRecord | None]
    booked_on: Callable[[Any], dt.date | None] = lambda _record: None
    parent: tuple[str, str] | None = None
    uploads: bool = False

    def parent_of(self, session: Session, local_id: int) -> tuple[str, int] | None:
        """The (record name, local id) this record goes up under, if it has one."""
        if self.parent is None:
            return None
        row = session.get(self.model, local_id)
        parent_id = getattr(row, self.parent[1], None) if row is not None else None
        return (self.parent[0], parent_id) if parent_id is not None else None

    def children_of(self, parent_id: int) -> Select[tuple[int]]:
        """The ids of this reader's rows that go up under the parent row `parent_id`."""
        assert self.parent is not None
        return select(self.model.id).where(getattr(self.model, self.parent[1]) == parent_id)


def _bill(session: Session, local_id: int, _parents: ParentInQbo) -> LocalBill | None:
    bill = session.get(Bill, local_id)
    if bill is None:
        return None
    vendor = session.get(Vendor, bill.vendor_id)
    return LocalBill(
        id=bill.id,
        vendor_id=bill.vendor_id,
        vendor_name=vendor.name if vendor else f"#{bill.vendor_id}",
        number=bill.number,
        bill_date=bill.bill_date,
        due_date=bill.due_date,
        memo=bill.memo,
        lines=tuple(
            LocalBillLine(
                line.position,
                line.cost_code_id,
                line.description,
                line.amount,
                line.billable,
                class_id=line.qbo_class_id,
            )
            for line in bill.lines
        ),
        location_id=bill.qbo_location_id,
    )


def _invoice(session: Session, local_id: int, _parents: ParentInQbo) -> LocalInvoice | None:
    invoice = session.get(Invoice, local_id)
    if invoice is None:
        return None
    return LocalInvoice(
        id=invoice.id,
        number=invoice.number,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        memo=invoice.memo,
        markup_percent=invoice.markup_percent or Decimal("0"),
        lines=tuple(
            LocalInvoiceLine(
                line.position,
                line.cost_code_id,
                line.description,
                line.amount,
                line.markup_amount or Decimal("0.00"),
                class_id=line.qbo_class_id,
            )
            for line in invoice.lines
        ),
        location_id=invoice.qbo_location_id,
    )


def _time_entry(session: Session, local_id: int, _parents: ParentInQbo) -> LocalTimeEntry | None:
    time = session.get(TimeEntry, local_id)
    if time is None:
        return None
    employee = session.get(Employee, time.employee_id)
    return LocalTimeEntry(
        id=time.id,
        employee_id=time.employee_id,
        employee_name=employee.name if employee else f"#{time.employee_id}",
        cost_code_id=time.cost_code_id,
        work_date=time.work_date,
        hours=time.hours,
        billable=time.billable,
        description=time.description,
        created_at=time.created_at,
        cost_rate=employee.cost_rate if employee else None,
        class_id=time.qbo_class_id,
        location_id=time.qbo_location_id,
    )


def _file(session: Session, local_id: int, parents: ParentInQbo) -> LocalFile | None:
    file = session.get(Attachment, local_id)
    if file is None or file.bill_id is None:
        return None
    entity, qbo_id = parents(Bill.__tablename__, file.bill_id) or ("", "")
    return LocalFile(
        id=file.id,
        file_name=file.file_name,
        content_type=file.content_type,
        size=file.size,
        parent_entity=entity,
        parent_qbo_id=qbo_id,
    )


READERS: dict[str, RecordReader] = {
    reader.name: reader
    for reader in (
        RecordReader(Bill.__tablename__, Bill, _bill, booked_on=lambda r: r.bill_date),
        RecordReader(Invoice.__tablename__, Invoice, _invoice, booked_on=lambda r: r.invoice_date),
        RecordReader(
            TimeEntry.__tablename__, TimeEntry, _time_entry, booked_on=lambda r: r.work_date
        ),
        RecordReader(FILE, Attachment, _file, parent=(Bill.__tablename__, "bill_id"), uploads=True),
    )
}


def reader_of_row(row: object) -> RecordReader | None:
    """The reader of an ORM row's record (None: the core pushes no such record)."""
    return next((r for r in READERS.values() if isinstance(row, r.model)), None)
