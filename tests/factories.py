"""Plain functions writing real rows with sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.models import Bill
from core.models import BillLine
from core.models import Company
from core.models import CostCode
from core.models import Project
from core.models import Vendor

_seq = itertools.count(1)


def make_company(db: Session, *, realm_id: str | None = None, **kw: Any) -> Company:
    """A company, connected to `realm_id` when given."""
    company = Company(
        name=kw.pop("name", f"Ridgeline Builders {next(_seq)}"), realm_id=realm_id, **kw
    )
    db.add(company)
    db.flush()
    return company


def make_project(
    db: Session, company: Company | None = None, *, linked: bool = False, **kw: Any
) -> Project:
    """A project; `linked=True` links it to a QBO customer.

    Every registered plugin is enabled unless `enabled_plugins` lists some (`None`), so a test's
    throwaway plugin answers for it; a real new project lists the plugins installed at creation.
    """
    company = company or make_company(db)
    kw.setdefault("enabled_plugins", None)
    project = Project(
        company_id=company.id, name=kw.pop("name", f"Maple Street Remodel {next(_seq)}"), **kw
    )
    if linked:
        project.qbo_customer_id = "58"
        project.qbo_customer_name = "Maple Street Remodel:Kitchen Addition"
    db.add(project)
    db.flush()
    return project


def make_cost_code(
    db: Session, company: Company, *, sells: bool = True, purchases: bool = True, **kw: Any
) -> CostCode:
    """A cost code connected to a QBO item that is sold and purchased by default."""
    n = next(_seq)
    code = CostCode(
        company_id=company.id,
        code=kw.pop("code", f"06-{n:03d}"),
        name=kw.pop("name", "Rough Carpentry"),
        qbo_item_id=kw.pop("qbo_item_id", str(n)),
        sells=sells,
        purchases=purchases,
        **kw,
    )
    db.add(code)
    db.flush()
    return code


def make_bill(
    db: Session, project: Project, *, lines: list[Decimal] | None = None, **kw: Any
) -> Bill:
    """A bill for `project` from a new vendor, with one line per amount."""
    vendor = Vendor(
        company_id=project.company_id, name=kw.pop("vendor_name", "Hillside Lumber Supply")
    )
    db.add(vendor)
    db.flush()
    bill = Bill(
        project_id=project.id,
        vendor_id=vendor.id,
        bill_date=kw.pop("bill_date", dt.date(2025, 6, 30)),
        **kw,
    )
    bill.lines = [
        BillLine(position=i, amount=a) for i, a in enumerate(lines or [Decimal("100.00")])
    ]
    db.add(bill)
    db.flush()
    return bill
