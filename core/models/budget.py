"""Budget lines and the actuals pulled from QBO into them."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from core.db import Base
from core.db import UTCDateTime
from core.db import utcnow
from core.models._common import Hours
from core.models._common import Money
from core.models._common import Timestamps
from core.models._common import enum_column


class BudgetLine(Timestamps, Base):
    """A budgeted amount for one cost code of a project (no cost code: the Uncoded row)."""

    __tablename__ = "budget_line"
    __table_args__ = (UniqueConstraint("project_id", "cost_code_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    cost_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_code.id", ondelete="RESTRICT")
    )
    description: Mapped[str | None] = mapped_column(String(500))
    budget_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))


class ActualType(enum.StrEnum):
    """What kind of QBO record an actual came from (DESIGN.md, "What becomes an actual")."""

    BILL = "bill"
    EXPENSE = "expense"
    CHECK = "check"
    CREDIT_CARD = "credit_card"
    CREDIT_CARD_CREDIT = "credit_card_credit"
    BANK_TRANSACTION = "bank_transaction"
    TIME = "time"
    VENDOR_CREDIT = "vendor_credit"


class Actual(Base):
    """One QBO transaction line counted against a project's budget.

    Keyed by realm, entity, record id and line id so pulling the same record again updates it
    instead of adding it twice. `cost_code_id` is None for a line with no connected item: it
    shows in the Uncoded row, never silently dropped. `amount` is signed (credits negative) in
    the home currency.
    """

    __tablename__ = "actual"
    __table_args__ = (UniqueConstraint("realm_id", "qbo_entity", "qbo_id", "qbo_line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    cost_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_code.id", ondelete="SET NULL")
    )
    actual_type: Mapped[ActualType] = enum_column(ActualType)
    realm_id: Mapped[str] = mapped_column(String(32))
    qbo_entity: Mapped[str] = mapped_column(String(40))
    qbo_id: Mapped[str] = mapped_column(String(32))
    qbo_line_id: Mapped[str] = mapped_column(String(32))
    qbo_item_id: Mapped[str | None] = mapped_column(String(32))
    txn_date: Mapped[dt.date] = mapped_column(Date)
    payee: Mapped[str | None] = mapped_column(String(500))
    doc_number: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    billable_status: Mapped[str | None] = mapped_column(String(20))
    hours: Mapped[Decimal | None] = mapped_column(Hours)
    amount: Mapped[Decimal] = mapped_column(Money)
    qbo_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pulled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
