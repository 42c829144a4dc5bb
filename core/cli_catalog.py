"""`costbridge cost-codes|vendors|employees`: the catalog imports and lists, from a terminal.

Also the helpers the push commands (`core.cli_push`) share with them: the common options,
finding a company's records by name (whatever their case or accents' composition; an unknown
one is refused naming the closest) and printing rows as a table or `--json`.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import click
from sqlalchemy import select

from core.cli_sync import _client
from core.cli_sync import _dump
from core.cli_sync import _fails_cleanly
from core.cli_sync import _runtime
from core.errors import CostbridgeError
from core.models import CostCode
from core.models import Employee
from core.models import Vendor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["cost_codes", "employees", "vendors"]

T = TypeVar("T")
M = TypeVar("M", CostCode, Vendor, Employee)
_JSON = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
_PROJECT = click.option("--project", "project_id", type=int, required=True, help="Project id.")
_COMPANY = click.option("--company", "company_id", type=int, required=True, help="Company id.")


# -- finding records and printing rows ------------------------------------------------------------


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


def pick(what: str, wanted: str, named: Sequence[tuple[str, T]], listing: str) -> T:
    """The one record called `wanted` among `(name, record)` pairs, or an error naming the closest.

    A name matches exactly, or else ignoring case and Unicode composition; a name several records
    share is refused with the ask to use the record's id.
    """
    exact = [r for n, r in named if n == wanted]
    found = exact or [r for n, r in named if _fold(n) == _fold(wanted)]
    if len(found) == 1:
        return found[0]
    if found:
        raise CostbridgeError(
            f"{len(found)} {what}s are called “{wanted}”.",
            fix=f"Rename one of them, then try again (`costbridge {listing}`).",
        )
    names = sorted({n for n, _ in named}, key=str.casefold)
    by_fold = {_fold(n): n for n in names}
    close = difflib.get_close_matches(_fold(wanted), list(by_fold), n=5, cutoff=0.6)
    close += [f for f in by_fold if _fold(wanted) in f and f not in close][: 5 - len(close)]
    hint = (
        "Did you mean: " + ", ".join(f"“{by_fold[c]}”" for c in close) + "?"
        if close
        else f"Run `costbridge {listing}` to see them."
    )
    raise CostbridgeError(f"No {what} is called “{wanted}”.", fix=hint)


def _of_company(session: Session, model: type[M], company_id: int) -> list[M]:
    return list(
        session.scalars(select(model).where(model.company_id == company_id).order_by(model.id))
    )


def _named(session: Session, model: type[M], what: str, company_id: int, wanted: str) -> M:
    """The company's vendor or employee called `wanted`."""
    named = [(r.name, r) for r in _of_company(session, model, company_id)]
    return pick(what, wanted, named, f"{what}s list --company {company_id}")


def _code(session: Session, company_id: int, wanted: str) -> CostCode:
    codes = _of_company(session, CostCode, company_id)
    by_code = [(c.code, c) for c in codes]
    try:
        return pick("cost code", wanted, by_code, f"cost-codes list --company {company_id}")
    except CostbridgeError:
        named = [(c.name, c) for c in codes]
        if any(_fold(n) == _fold(wanted) for n, _ in named):
            return pick("cost code", wanted, named, f"cost-codes list --company {company_id}")
        raise


def _show(
    rows: list[dict[str, Any]], as_json: bool, echo: Callable[[dict[str, Any]], None]
) -> None:
    """The rows as JSON, or each as `echo` prints it."""
    if as_json:
        _dump(rows)
        return
    for r in rows:
        echo(r)


# -- cost codes, vendors, employees ---------------------------------------------------------------


def _import(company_id: int, as_json: bool, what: str, run: Any) -> None:
    from core.projects import get_company

    with _runtime() as rt, rt.sessions() as session:
        company = get_company(session, company_id)
        report = run(session, _client(rt, company), company.id)
        session.commit()
    if as_json:
        _dump(report.as_dict())
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
    @_COMPANY
    @_JSON
    @_fails_cleanly
    def command(company_id: int, as_json: bool) -> None:
        from core import catalog_import

        _import(company_id, as_json, what, getattr(catalog_import, importer))


def _list_command(
    group: click.Group,
    doc: str,
    rows: Callable[[Session, int], list[dict[str, Any]]],
    echo: Callable[[dict[str, Any]], None],
) -> None:
    """`GROUP list --company ID [--json]`: `rows`, each printed by `echo`."""

    @group.command("list", help=doc)
    @_COMPANY
    @_JSON
    @_fails_cleanly
    def command(company_id: int, as_json: bool) -> None:
        with _runtime() as rt, rt.sessions() as session:
            found = rows(session, company_id)
        _show(found, as_json, echo)


@click.group("cost-codes")
def cost_codes() -> None:
    """Cost codes: QuickBooks Products & Services (items) and their accounts."""


@click.group()
def vendors() -> None:
    """Vendors and their QuickBooks vendors (bill pushes need the connection)."""


@click.group()
def employees() -> None:
    """Employees and their QuickBooks employees (time pushes need the connection)."""


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
        for c in _of_company(session, CostCode, company_id)
    ]


def _code_line(r: dict[str, Any]) -> None:
    item = f"item {r['qbo_item_id']}" if r["qbo_item_id"] else "no item"
    accounts = f"income {r['income_account'] or '-'} / expense {r['expense_account'] or '-'}"
    click.echo(f"{r['id']:>5}  {r['code']:<16} {r['name'][:28]:<28} {item:<10} {accounts}")
    if r["problem"]:
        click.echo(f"       !! {r['problem']}")


_list_command(
    cost_codes,
    "The company's cost codes: item, accounts, and what QuickBooks still needs turned on.",
    _code_rows,
    _code_line,
)


def _vendor_rows(session: Session, company_id: int) -> list[dict[str, Any]]:
    return [
        {"id": v.id, "name": v.name, "qbo_id": v.qbo_vendor_id}
        for v in _of_company(session, Vendor, company_id)
    ]


def _employee_rows(session: Session, company_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "name": e.name,
            "qbo_id": e.qbo_employee_id,
            "cost_rate": None if e.cost_rate is None else str(e.cost_rate),
        }
        for e in _of_company(session, Employee, company_id)
    ]


def _person_line(r: dict[str, Any]) -> None:
    qbo = f"QBO {r['qbo_id']}" if r["qbo_id"] else "not connected"
    click.echo(f"{r['id']:>5}  {r['name']:<40} {qbo}")


_list_command(
    vendors,
    "The company's vendors and the QuickBooks vendor each is connected to.",
    _vendor_rows,
    _person_line,
)
_list_command(
    employees,
    "The company's employees, their QuickBooks employee and cost rate.",
    _employee_rows,
    _person_line,
)
