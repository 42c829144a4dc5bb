"""Importing QBO's Products & Services, vendors and employees as connected local records.

`costbridge cost-codes import`, `vendors import` and `employees import` (and the admin's import
buttons) call these. A record already connected to a QBO record is updated, one with the same
name is connected, anything else is added; nothing is ever deleted. Items QBO cannot use for
both selling and purchasing are imported and flagged with what to turn on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import CostCode
from core.models import Employee
from core.models import Vendor
from core.qbo import queries

#: Item types that can be cost codes (API.md §11.8): services and non-inventory products.
CODE_ITEM_TYPES = ("Service", "NonInventory")


@dataclass
class ImportReport:
    """What an import did: counts, and items flagged as unusable with the reason."""

    added: int = 0
    connected: int = 0
    updated: int = 0
    flagged: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (for `--json`)."""
        return {
            "added": self.added,
            "connected": self.connected,
            "updated": self.updated,
            "flagged": dict(self.flagged),
        }


def _ref(row: Mapping[str, Any], key: str) -> tuple[str | None, str | None]:
    ref = row.get(key)
    if isinstance(ref, Mapping) and ref.get("value"):
        name = ref.get("name")
        return str(ref["value"]), None if name is None else str(name)
    return None, None


def import_cost_codes(session: Session, client: Any, company_id: int) -> ImportReport:
    """QBO Service and NonInventory items become cost codes connected to them.

    Args:
        session: The caller's session; the caller commits.
        client: The company's `QboClient`.
        company_id: The company importing.
    """
    report = ImportReport()
    existing = list(session.scalars(select(CostCode).where(CostCode.company_id == company_id)))
    by_item = {c.qbo_item_id: c for c in existing if c.qbo_item_id}
    by_code = {c.code.casefold(): c for c in existing}
    for item in client.query_all("Item", queries.in_("Type", CODE_ITEM_TYPES)):
        item_id = str(item["Id"])
        name = str(item.get("Name") or item.get("FullyQualifiedName") or item_id)
        code_text = str(item.get("Sku") or name)[:40]
        income_id, income_name = _ref(item, "IncomeAccountRef")
        expense_id, expense_name = _ref(item, "ExpenseAccountRef")
        code = by_item.get(item_id)
        if code is None:
            code = by_code.get(code_text.casefold())
            if code is not None and code.qbo_item_id not in (None, item_id):
                code_text = f"{code_text[:30]}-{item_id}"[:40]
                code = None
            if code is None:
                code = CostCode(company_id=company_id, code=code_text, name=name[:200])
                session.add(code)
                by_code[code_text.casefold()] = code
                report.added += 1
            else:
                report.connected += 1
        else:
            report.updated += 1
        code.qbo_item_id = item_id
        code.qbo_item_name = str(item.get("FullyQualifiedName") or name)[:500]
        code.name = name[:200]
        code.income_account_id, code.income_account_name = income_id, income_name
        code.expense_account_id, code.expense_account_name = expense_id, expense_name
        code.sells = income_id is not None
        code.purchases = expense_id is not None
        code.active = bool(item.get("Active", True))
        by_item[item_id] = code
        problem = code.usability_problem()
        if problem:
            report.flagged[code.code] = problem
    session.flush()
    return report


def import_vendors(session: Session, client: Any, company_id: int) -> ImportReport:
    """QBO vendors become local vendors connected to them (bill push needs the connection)."""
    return _import_people(session, client, company_id, "Vendor", Vendor, "qbo_vendor_id")


def import_employees(session: Session, client: Any, company_id: int) -> ImportReport:
    """QBO employees become local employees connected to them, with their cost rate."""
    return _import_people(session, client, company_id, "Employee", Employee, "qbo_employee_id")


def _import_people(
    session: Session,
    client: Any,
    company_id: int,
    entity: str,
    model: type[Vendor] | type[Employee],
    id_column: str,
) -> ImportReport:
    report = ImportReport()
    existing: list[Vendor | Employee] = list(
        session.scalars(select(model).where(model.company_id == company_id))
    )
    by_qbo: dict[str, Vendor | Employee] = {
        getattr(p, id_column): p for p in existing if getattr(p, id_column)
    }
    by_name: dict[str, Vendor | Employee] = {
        p.name.casefold(): p for p in existing if not getattr(p, id_column)
    }
    for row in client.query_all(entity):
        qbo_id = str(row["Id"])
        name = str(row.get("DisplayName") or qbo_id)[:200]
        person: Vendor | Employee | None = by_qbo.get(qbo_id)
        if person is None:
            person = by_name.pop(name.casefold(), None)
            if person is None:
                person = model(company_id=company_id, name=name)
                session.add(person)
                report.added += 1
            else:
                report.connected += 1
        else:
            report.updated += 1
        person.name = name
        setattr(person, id_column, qbo_id)
        if isinstance(person, Employee) and row.get("CostRate") is not None:
            person.cost_rate = Decimal(str(row["CostRate"]))
        by_qbo[qbo_id] = person
    session.flush()
    return report
