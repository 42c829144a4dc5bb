"""Connecting one local cost code, vendor or employee to one QBO record (chosen in a drop-down).

The bulk versions are `core.catalog_import`; these connect a single record the admin picked,
reading the QBO record afresh so the names, accounts and "I sell"/"I purchase" flags are QBO's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalog_import import CODE_ITEM_TYPES
from core.errors import NeedsAdmin
from core.models import CostCode
from core.models import Employee
from core.models import Vendor
from core.qbo import queries


def choices(client: Any, entity: str) -> list[tuple[str, str]]:
    """`(id, name)` of every active QBO record of `entity` (Item: only cost-code types)."""
    conditions = [queries.in_("Type", CODE_ITEM_TYPES)] if entity == "Item" else []
    rows = client.query_all(entity, *conditions)
    named = [
        (str(r["Id"]), str(r.get("FullyQualifiedName") or r.get("DisplayName") or r["Id"]))
        for r in rows
        if r.get("Active", True)
    ]
    return sorted(named, key=lambda pair: pair[1].casefold())


def _read(client: Any, entity: str, qbo_id: str) -> dict[str, Any]:
    rows = list(client.query_all(entity, queries.in_("Id", [qbo_id])))
    if not rows:
        raise NeedsAdmin(
            f"QuickBooks has no {entity} {qbo_id}.", fix="Pick another one from the list."
        )
    return dict(rows[0])


def _taken(session: Session, model: Any, column: Any, qbo_id: str, own_id: int) -> None:
    other = session.scalars(
        select(model).where(column == qbo_id, model.id != own_id).limit(1)
    ).first()
    if other is not None:
        raise NeedsAdmin(
            f"That QuickBooks record is already connected to {other.name}.",
            fix="Disconnect it there first, or pick another one.",
        )


def connect_cost_code(session: Session, client: Any, code: CostCode, item_id: str) -> CostCode:
    """Connect `code` to QBO item `item_id`, copying its accounts and sell/purchase flags."""
    _taken(session, CostCode, CostCode.qbo_item_id, item_id, code.id)
    item = _read(client, "Item", item_id)
    income = item.get("IncomeAccountRef") or {}
    expense = item.get("ExpenseAccountRef") or {}
    code.qbo_item_id = str(item["Id"])
    code.qbo_item_name = str(item.get("FullyQualifiedName") or item.get("Name") or "")[:500]
    code.income_account_id = str(income["value"]) if income.get("value") else None
    code.income_account_name = income.get("name")
    code.expense_account_id = str(expense["value"]) if expense.get("value") else None
    code.expense_account_name = expense.get("name")
    code.sells = code.income_account_id is not None
    code.purchases = code.expense_account_id is not None
    code.active = bool(item.get("Active", True))
    session.flush()
    return code


def connect_vendor(session: Session, client: Any, vendor: Vendor, qbo_id: str) -> Vendor:
    """Connect `vendor` to QBO vendor `qbo_id` (bill push needs it)."""
    _taken(session, Vendor, Vendor.qbo_vendor_id, qbo_id, vendor.id)
    vendor.qbo_vendor_id = str(_read(client, "Vendor", qbo_id)["Id"])
    session.flush()
    return vendor


def connect_employee(session: Session, client: Any, employee: Employee, qbo_id: str) -> Employee:
    """Connect `employee` to QBO employee `qbo_id` (time push needs it)."""
    _taken(session, Employee, Employee.qbo_employee_id, qbo_id, employee.id)
    employee.qbo_employee_id = str(_read(client, "Employee", qbo_id)["Id"])
    session.flush()
    return employee
