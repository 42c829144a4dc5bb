"""`costbridge cost-codes|vendors|employees`: the catalog imports and lists, from a terminal.

Bills and time entries find these records by name (`core.cli.common.find_named`); the imports
connect them to their QuickBooks items, vendors and employees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

import click

from core.cli.common import COMPANY
from core.cli.common import JSON
from core.cli.common import connected_client
from core.cli.common import dump
from core.cli.common import fails_cleanly
from core.cli.common import list_command
from core.cli.common import of_company
from core.cli.common import runtime
from core.models import CostCode
from core.models import Employee
from core.models import Vendor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.catalog_import import ImportReport

__all__ = ["cost_codes", "employees", "vendors"]

Importer = Callable[["Session", Any, int], "ImportReport"]


@click.group("cost-codes")
def cost_codes() -> None:
    """Cost codes: QuickBooks Products & Services (items) and their accounts."""


@click.group()
def vendors() -> None:
    """Vendors and their QuickBooks vendors (bill pushes need the connection)."""


@click.group()
def employees() -> None:
    """Employees and their QuickBooks employees (time pushes need the connection)."""


# -- imports ------------------------------------------------------------------------------------


def _import(company_id: int, as_json: bool, what: str, run: Importer) -> None:
    from core.projects import get_company

    with runtime() as rt, rt.sessions() as session:
        company = get_company(session, company_id)
        report = run(session, connected_client(rt, company), company.id)
        session.commit()
    if as_json:
        dump(report.as_dict())
        return
    click.echo(
        f"costbridge: {what} imported from QuickBooks: {report.added} added, "
        f"{report.connected} connected by name, {report.updated} updated."
    )
    for code, problem in report.flagged.items():
        click.echo(f"!! cost code {code}: {problem}", err=True)


def _import_command(group: click.Group, what: str, importer: str, doc: str) -> None:
    """`GROUP import --company ID [--json]`, running `core.catalog_import.<importer>`."""

    @group.command("import", help=doc)
    @COMPANY
    @JSON
    @fails_cleanly
    def command(company_id: int, as_json: bool) -> None:
        from core import catalog_import

        _import(company_id, as_json, what, getattr(catalog_import, importer))


_import_command(
    cost_codes,
    "cost codes",
    "import_cost_codes",
    "QuickBooks Service and Non-inventory items become connected cost codes.",
)
_import_command(
    vendors,
    "vendors",
    "import_vendors",
    "QuickBooks vendors become local vendors connected to them.",
)
_import_command(
    employees,
    "employees",
    "import_employees",
    "QuickBooks employees become local employees connected to them, with their cost rate.",
)


# -- lists --------------------------------------------------------------------------------------


def _code_rows(session: Session, company_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "code": c.code,
            "name": c.name,
            "qbo_item_id": c.qbo_item_id,
            "qbo_item_name": c.qbo_item_name,
            "income_account": c.income_account_name,
            "expense_account": c.expense_account_name,
            "sells": c.sells,
            "purchases": c.purchases,
            "active": c.active,
            "problem": c.usability_problem(),
        }
        for c in of_company(session, CostCode, company_id)
    ]


def _code_line(r: dict[str, Any]) -> None:
    item = f"item {r['qbo_item_id']}" if r["qbo_item_id"] else "no item"
    accounts = f"income {r['income_account'] or '-'} / expense {r['expense_account'] or '-'}"
    click.echo(f"{r['id']:>5}  {r['code']:<16} {r['name'][:28]:<28} {item:<10} {accounts}")
    if r["problem"]:
        click.echo(f"       !! {r['problem']}")


def _vendor_rows(session: Session, company_id: int) -> list[dict[str, Any]]:
    return [
        {"id": v.id, "name": v.name, "qbo_id": v.qbo_vendor_id}
        for v in of_company(session, Vendor, company_id)
    ]


def _employee_rows(session: Session, company_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "name": e.name,
            "qbo_id": e.qbo_employee_id,
            "cost_rate": None if e.cost_rate is None else str(e.cost_rate),
        }
        for e in of_company(session, Employee, company_id)
    ]


def _person_line(r: dict[str, Any]) -> None:
    qbo = f"QBO {r['qbo_id']}" if r["qbo_id"] else "not connected"
    click.echo(f"{r['id']:>5}  {r['name']:<40} {qbo}")


list_command(
    cost_codes,
    "The company's cost codes: item, accounts, and what QuickBooks still needs turned on.",
    per="company",
    rows=_code_rows,
    echo=_code_line,
)
list_command(
    vendors,
    "The company's vendors and the QuickBooks vendor each is connected to.",
    per="company",
    rows=_vendor_rows,
    echo=_person_line,
)
list_command(
    employees,
    "The company's employees, their QuickBooks employee and cost rate.",
    per="company",
    rows=_employee_rows,
    echo=_person_line,
)
