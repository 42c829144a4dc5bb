"""Cost codes (QBO Items), vendors, employees, QBO classes and locations, and their connections."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from core.db import Base
from core.models._common import Rate
from core.models._common import Timestamps


class CostCode(Timestamps, Base):
    """A cost code, connected to a QBO Product/Service (Item) and its GL accounts.

    An item can serve only when QBO has both "I sell" (income account) and "I purchase"
    (expense account) on; `sells` and `purchases` mirror those so the admin can be told which
    is missing.
    """

    __tablename__ = "cost_code"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    qbo_item_id: Mapped[str | None] = mapped_column(String(32))
    qbo_item_name: Mapped[str | None] = mapped_column(String(500))
    income_account_id: Mapped[str | None] = mapped_column(String(32))
    income_account_name: Mapped[str | None] = mapped_column(String(200))
    expense_account_id: Mapped[str | None] = mapped_column(String(32))
    expense_account_name: Mapped[str | None] = mapped_column(String(200))
    sells: Mapped[bool] = mapped_column(default=False)
    purchases: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def label(self) -> str:
        """The code and its name for messages, each once ("06-200 Finish Carpentry" even when
        QBO's item name already starts with the code)."""
        code, name = self.code.strip(), self.name.strip()
        if not name or name.casefold() == code.casefold():
            return code
        if name.casefold().startswith(code.casefold()) or not code:
            return name
        return f"{code} {name}"

    def usability_problem(self) -> str | None:
        """Why QBO cannot use this code's item yet, in the admin's words; None when it can."""
        if not self.qbo_item_id:
            return "not connected to a QuickBooks Product/Service"
        missing = [
            label
            for label, on in (
                ("I sell this product/service", self.sells),
                ("I purchase this product/service", self.purchases),
            )
            if not on
        ]
        if missing:
            return (
                "turn on "
                + " and ".join(f"“{m}”" for m in missing)
                + " for this item in QuickBooks"
            )
        return None


class Vendor(Timestamps, Base):
    """A vendor; bills push only for vendors connected to a QBO Vendor."""

    __tablename__ = "vendor"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    qbo_vendor_id: Mapped[str | None] = mapped_column(String(32))


class Employee(Timestamps, Base):
    """An employee; time pushes only for employees connected to a QBO Employee."""

    __tablename__ = "employee"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    qbo_employee_id: Mapped[str | None] = mapped_column(String(32))
    cost_rate: Mapped[Decimal | None] = mapped_column(Rate)


class TrackingCategory(Base):
    """A QBO Class or Department (QBO calls it "location"), copied for drop-downs and names.

    `kind` is `class` or `location`. Projects and pushed records keep the QBO id; this copy gives
    the name to show and to look a typed name up by. It is refreshed from QBO
    (`core.tracking.refresh`) and never deleted: one made inactive in QBO stays, marked inactive.
    """

    __tablename__ = "tracking_category"
    __table_args__ = (UniqueConstraint("company_id", "kind", "qbo_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    qbo_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(default=True)
