"""Records created in costbridge and pushed to QBO: bills, invoices, time entries, files."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from core.db import Base
from core.models._common import Hours
from core.models._common import Money
from core.models._common import Rate
from core.models._common import Timestamps
from core.models._common import enum_column


class Bill(Timestamps, Base):
    """A vendor bill entered in costbridge; pushed to QBO as an unpaid Bill.

    Its QBO id and SyncToken live in `RemoteMapping` (kind `bill`), like every pushed record's.
    """

    __tablename__ = "bill"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="RESTRICT"))
    number: Mapped[str | None] = mapped_column(String(40))
    bill_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    memo: Mapped[str | None] = mapped_column(Text)
    #: QBO location (Department) of this bill, over the project's default; QBO keeps it per bill.
    qbo_location_id: Mapped[str | None] = mapped_column(String(32))

    lines: Mapped[list[BillLine]] = relationship(
        back_populates="bill", cascade="all, delete-orphan", order_by="BillLine.position"
    )

    @property
    def total(self) -> Decimal:
        """Sum of the lines."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))


class BillLine(Base):
    """One line of a bill; a line with no cost code uses the project's default billing code."""

    __tablename__ = "bill_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    cost_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_code.id", ondelete="RESTRICT")
    )
    description: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money)
    billable: Mapped[bool] = mapped_column(default=True)
    #: QBO Class of this line, over the project's default.
    qbo_class_id: Mapped[str | None] = mapped_column(String(32))

    bill: Mapped[Bill] = relationship(back_populates="lines")


class InvoiceStatus(enum.StrEnum):
    """Where a client invoice stands; while "send invoices" is on, only QBO can make it paid."""

    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


class Invoice(Timestamps, Base):
    """A client invoice; pushed to QBO as an Invoice. Markup lines use the profit code."""

    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str | None] = mapped_column(String(40))
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[InvoiceStatus] = enum_column(InvoiceStatus, default=InvoiceStatus.DRAFT)
    markup_percent: Mapped[Decimal] = mapped_column(Rate, default=Decimal("0"))
    memo: Mapped[str | None] = mapped_column(Text)
    balance: Mapped[Decimal | None] = mapped_column(Money)
    #: QBO location (Department) of this invoice, over the project's default.
    qbo_location_id: Mapped[str | None] = mapped_column(String(32))

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )


class InvoiceLine(Base):
    """One invoice line; `markup_amount` is billed on a separate line under the profit code."""

    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    cost_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_code.id", ondelete="RESTRICT")
    )
    description: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money)
    markup_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: QBO Class of this line, over the project's default.
    qbo_class_id: Mapped[str | None] = mapped_column(String(32))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class TimeEntry(Timestamps, Base):
    """A time clock entry; pushed as a QBO TimeActivity if created after time tracking was on."""

    __tablename__ = "time_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id", ondelete="RESTRICT"))
    cost_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_code.id", ondelete="RESTRICT")
    )
    work_date: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Hours)
    billable: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str | None] = mapped_column(Text)
    #: QBO Class and location (Department) of this entry, over the project's defaults.
    qbo_class_id: Mapped[str | None] = mapped_column(String(32))
    qbo_location_id: Mapped[str | None] = mapped_column(String(32))


class AttachmentOrigin(enum.StrEnum):
    """Where a file came from."""

    LOCAL = "local"
    QBO = "qbo"


class Attachment(Timestamps, Base):
    """A file on a bill or actual. Files pulled from QBO are read-only copies.

    The QBO Attachable it became (or came from) is kept in `RemoteMapping` (kind `attachment`).
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    bill_id: Mapped[int | None] = mapped_column(
        ForeignKey("bill.id", ondelete="CASCADE"), index=True
    )
    actual_id: Mapped[int | None] = mapped_column(ForeignKey("actual.id", ondelete="SET NULL"))
    origin: Mapped[AttachmentOrigin] = enum_column(AttachmentOrigin, default=AttachmentOrigin.LOCAL)
    read_only: Mapped[bool] = mapped_column(default=False)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
