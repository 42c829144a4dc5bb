"""Budget lines and the actuals pulled from QBO into them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from core.db import Base
from core.db import UTCDateTime
from core.db import utcnow
from core.models._common import FineRate
from core.models._common import Hours
from core.models._common import Money
from core.models._common import Timestamps


class BudgetLine(Timestamps, Base):
    """A budgeted amount for one cost code of a project (no cost code: the Uncoded row)."""

    __tablename__ = "budget_line"
    __table_args__ = (
        UniqueConstraint("project_id", "cost_code_id"),
        # NULLs are distinct in a UNIQUE constraint: this keeps one Uncoded row per project.
        Index(
            "uq_budget_line_uncoded",
            "project_id",
            unique=True,
            postgresql_where=text("cost_code_id IS NULL"),
            sqlite_where=text("cost_code_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    cost_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_code.id", ondelete="RESTRICT")
    )
    description: Mapped[str | None] = mapped_column(String(500))
    budget_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))


class BudgetChange(Base):
    """Every change of a project's budget line: who, when, through what, from what to what.

    `code` keeps the cost code's code as it was then (the Uncoded row is `UNCODED`), so the
    history still reads after a cost code is renamed or deleted. An amount or description that
    did not exist before is None; `source` says which way in it came (console, cli, import).
    """

    __tablename__ = "budget_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    cost_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_code.id", ondelete="SET NULL")
    )
    code: Mapped[str] = mapped_column(String(240))
    old_amount: Mapped[Decimal | None] = mapped_column(Money)
    new_amount: Mapped[Decimal | None] = mapped_column(Money)
    old_description: Mapped[str | None] = mapped_column(String(500))
    new_description: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(20))
    changed_by: Mapped[str | None] = mapped_column(String(200))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Actual(Base):
    """One QBO cost line of a realm, and whether it counts against a project's budget.

    Every cost line the pull sees is kept, also those of customers no project is linked to yet
    and those a project's settings leave out, so flipping a toggle or linking a project
    re-applies at once without asking QBO again. A line counts for `project_id` when
    `excluded_reason` is None; otherwise that column says why not, in an admin's words.

    Keyed by realm, entity, record id and line id, so pulling the same record again updates it.
    `cost_code_id` is None for a line with no connected item: it shows in the Uncoded row, never
    silently dropped. `amount` is signed (credits negative), in the home currency, rounded once.
    `exclusions` holds the plugin's `[setting, excluded_when, reason]` rules for the line.
    `actual_type` is the name of an actual type the mapping plugin declares (`PluginInfo`); the
    core registers types from plugins, so no list of them constrains the column.
    """

    __tablename__ = "actual"
    __table_args__ = (
        UniqueConstraint("realm_id", "qbo_entity", "qbo_id", "qbo_line_id"),
        Index("ix_actual_realm_customer", "realm_id", "customer_ref"),
        Index("ix_actual_project_counted", "project_id", "excluded_reason"),
        # The budget's Applied Actuals pop-up: a project's counting lines, newest first, per
        # cost code or all of them, with their amounts (index-only sums once vacuumed).
        Index(
            "ix_actual_counted_code_date",
            "project_id",
            "cost_code_id",
            "txn_date",
            "id",
            postgresql_include=["amount", "actual_type"],
            postgresql_where=text("excluded_reason IS NULL"),
            sqlite_where=text("excluded_reason IS NULL"),
        ),
        Index(
            "ix_actual_counted_date",
            "project_id",
            "txn_date",
            "id",
            postgresql_include=["amount"],
            postgresql_where=text("excluded_reason IS NULL"),
            sqlite_where=text("excluded_reason IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[str] = mapped_column(String(32))
    qbo_entity: Mapped[str] = mapped_column(String(40))
    qbo_id: Mapped[str] = mapped_column(String(32))
    qbo_line_id: Mapped[str] = mapped_column(String(32))
    sync_token: Mapped[str | None] = mapped_column(String(16))
    plugin: Mapped[str] = mapped_column(String(100))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"))
    customer_ref: Mapped[str | None] = mapped_column(String(32))
    customer_name: Mapped[str | None] = mapped_column(String(500))
    cost_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_code.id", ondelete="SET NULL")
    )
    actual_type: Mapped[str] = mapped_column(String(24))
    txn_date: Mapped[dt.date] = mapped_column(Date)
    payee: Mapped[str | None] = mapped_column(String(500))
    doc_number: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    billable_status: Mapped[str | None] = mapped_column(String(20))
    hours: Mapped[Decimal | None] = mapped_column(Hours)
    cost_rate: Mapped[Decimal | None] = mapped_column(FineRate)
    amount: Mapped[Decimal] = mapped_column(Money)
    qbo_item_id: Mapped[str | None] = mapped_column(String(32))
    item_name: Mapped[str | None] = mapped_column(String(500))
    account_id: Mapped[str | None] = mapped_column(String(32))
    account_name: Mapped[str | None] = mapped_column(String(500))
    class_id: Mapped[str | None] = mapped_column(String(32))
    class_name: Mapped[str | None] = mapped_column(String(500))
    location_id: Mapped[str | None] = mapped_column(String(32))
    location_name: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str | None] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal | None] = mapped_column(FineRate)
    original_amount: Mapped[Decimal | None] = mapped_column(Money)
    exclusions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    excluded_reason: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    qbo_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id", ondelete="SET NULL"))
    pulled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def counts(self) -> bool:
        """Whether the line counts against its project's budget."""
        return self.project_id is not None and self.excluded_reason is None
