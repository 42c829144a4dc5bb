"""References stay in their company: a bill's vendor, a line's cost code, a time entry's employee,
a budget line's cost code all belong to the company of the project they are used on.

Every create and edit path (console pages, Flask-Admin forms, the CLI, `core.push.records`)
checks through `same_company`, so the push never meets another company's record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.errors import NeedsAdmin
from core.models import Company
from core.models import CostCode
from core.models import Employee
from core.models import Project
from core.models import Vendor

__all__ = ["WHAT", "same_company"]

#: How each company-owned model is named in an error.
WHAT: dict[type[Any], str] = {
    CostCode: "cost code",
    Vendor: "vendor",
    Employee: "employee",
    Project: "project",
}


def _label(row: Any) -> str:
    if isinstance(row, CostCode):
        return f"{row.code} {row.name}"
    return str(getattr(row, "name", row.id))


def _company_name(session: Session, company_id: int) -> str:
    company = session.get(Company, company_id)
    return company.name if company is not None else f"company {company_id}"


def same_company(session: Session, company_id: int, model: type[Any], row_id: int | None) -> Any:
    """The row `row_id` of `model`, which must belong to company `company_id`; None for None.

    Raises:
        NeedsAdmin: There is no such row, or it belongs to another company (the message names
            the row and both companies).
    """
    if row_id is None:
        return None
    what = WHAT.get(model, model.__name__.lower())
    row = session.get(model, row_id)
    if row is None:
        raise NeedsAdmin(
            f"There is no {what} {row_id}.", fix=f"Choose one of the company's {what}s."
        )
    if row.company_id != company_id:
        raise NeedsAdmin(
            f"The {what} “{_label(row)}” belongs to {_company_name(session, row.company_id)}, "
            f"not to {_company_name(session, company_id)}.",
            fix=f"Choose one of {_company_name(session, company_id)}'s {what}s.",
        )
    return row
