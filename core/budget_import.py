"""Budget lines imported from CSV, as estimating and accounting tools export them.

`read_csv` reads a file into the entries of `core.budgets` and says, before anything is written,
what importing them would change and what is wrong row by row; saving goes through
`core.budgets.apply_confirmed` like every other budget change. `entries_json` and
`entries_from_json` carry a preview's entries to its confirmation.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.budgets import CENT
from core.budgets import BudgetEntry
from core.budgets import BudgetPlan
from core.budgets import RowProblem
from core.budgets import check_description
from core.budgets import code_label
from core.budgets import plan_budget
from core.budgets import read_amount
from core.budgets import resolve_code
from core.errors import CostbridgeError
from core.lookup import company_cost_codes
from core.lookup import fold
from core.models import Project

__all__ = ["MAX_IMPORT_BYTES", "entries_from_json", "entries_json", "read_csv"]

#: Largest CSV read (a budget of thousands of cost codes is far smaller).
MAX_IMPORT_BYTES = 1_000_000
#: Most rows read from one file.
MAX_IMPORT_ROWS = 5_000
#: Header names estimating and accounting tools use, as compared (`_header_key`).
CODE_HEADERS = frozenset(
    {
        "code",
        "cost code",
        "costcode",
        "cost code number",
        "cost code id",
        "phase",
        "phase code",
        "job cost code",
        "cost item",
        "item",
        "account",
    }
)
AMOUNT_HEADERS = frozenset(
    {
        "amount",
        "budget",
        "budget amount",
        "budgeted",
        "budgeted amount",
        "total",
        "total cost",
        "total amount",
        "total budget",
        "estimate",
        "estimated cost",
        "cost",
        "revised budget",
    }
)
DESCRIPTION_HEADERS = frozenset(
    {
        "description",
        "desc",
        "cost code description",
        "item description",
        "phase description",
        "notes",
        "memo",
    }
)
#: Rows estimating exports add at the bottom, skipped unless a cost code is so called.
TOTAL_ROWS = frozenset({"total", "totals", "grand total", "sub total", "subtotal"})


def _header_key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(cell)).strip()


def _columns(row: Sequence[str]) -> dict[str, int] | None:
    """Which column holds what, when `row` is a header row (None when it is data)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        key = _header_key(cell)
        for name, names in (
            ("code", CODE_HEADERS),
            ("amount", AMOUNT_HEADERS),
            ("description", DESCRIPTION_HEADERS),
        ):
            if key in names and name not in found:
                found[name] = index
    return found or None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets saved on Windows: the ANSI code page (every byte is some character).
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    if "\t" in first:
        return "\t"
    if ";" in first and "," not in first:
        return ";"
    return ","


def read_csv(session: Session, project: Project, data: bytes) -> BudgetPlan:
    """What importing the CSV `data` would change on the project's budget; writes nothing.

    Columns: the cost code (its code or name), the amount, and optionally a description,
    after an optional header row naming them as estimating tools do ("Cost Code", "Budget",
    "Total", "Description", ...; any other column is ignored). Without a header the columns are
    code, amount, description, in that order. Rows that are wrong are listed with their row
    number and the fix (the plan is then not `ok`); a total row at the bottom is skipped.

    Raises:
        CostbridgeError: The file as a whole cannot be read (too large, no rows, no columns).
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise CostbridgeError(
            f"The file is {len(data):,} bytes; a budget import reads up to {MAX_IMPORT_BYTES:,}.",
            fix="Export only the cost codes and their amounts, or split the file.",
        )
    text = _decode(data)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as exc:
        raise CostbridgeError(
            f"The file is not a CSV file that can be read ({exc}).",
            fix="Save it from the spreadsheet as “CSV (comma delimited)” and try again.",
        ) from None
    if len(rows) > MAX_IMPORT_ROWS:
        raise CostbridgeError(
            f"The file has {len(rows):,} rows; a budget import reads up to {MAX_IMPORT_ROWS:,}.",
            fix="Import one project's budget per file.",
        )
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise CostbridgeError(
            "The file has no rows.", fix="Put one cost code and its amount on each row."
        )
    columns = _columns(numbered[0][1])
    problems: list[RowProblem] = []
    if columns is not None:
        header_row, header = numbered.pop(0)
        missing = [name for name in ("code", "amount") if name not in columns]
        if missing:
            raise CostbridgeError(
                f"Row {header_row} names the columns "
                + ", ".join(f"“{c.strip()}”" for c in header if c.strip())
                + f" but none of them is the {' or the '.join(missing)}.",
                fix="Call the columns Code, Amount and (if you like) Description.",
            )
    else:
        columns = {"code": 0, "amount": 1, "description": 2}
    codes = company_cost_codes(session, project.company_id)
    entries: list[BudgetEntry] = []
    first_row: dict[int | None, int] = {}
    skipped: list[str] = []

    def cell(row: Sequence[str], name: str) -> str | None:
        index = columns.get(name) if columns else None
        if index is None or index >= len(row):
            return None
        return row[index].strip()

    for n, row in numbered:
        code_text = cell(row, "code") or ""
        amount_text = cell(row, "amount") or ""
        description = cell(row, "description") or None
        if not code_text:
            problems.append(
                RowProblem(
                    n,
                    f"Row {n} has no cost code.",
                    "Put the cost code's code or name in the code column, or delete the row.",
                )
            )
            continue
        try:
            code = resolve_code(session, project, code_text, codes)
        except CostbridgeError as exc:
            if fold(code_text) in TOTAL_ROWS:
                skipped.append(f"Row {n} (“{code_text}”) is a total row: left out.")
                continue
            problems.append(RowProblem(n, f"Row {n}: {exc.message}", exc.fix))
            continue
        code_id = code.id if code is not None else None
        if code_id in first_row:
            problems.append(
                RowProblem(
                    n,
                    f"Row {n}: {code_label(code)} is on row {first_row[code_id]} already.",
                    "Keep one row per cost code (add the two amounts up if both count).",
                )
            )
            continue
        first_row[code_id] = n
        if not amount_text:
            problems.append(
                RowProblem(
                    n,
                    f"Row {n} has no amount for {code_label(code)}.",
                    "Write its budget, or 0 to budget nothing for it.",
                )
            )
            continue
        try:
            amount = read_amount(amount_text, f"The amount on row {n}")
            check_description(description, f"The description on row {n}")
        except CostbridgeError as exc:
            problems.append(RowProblem(n, exc.message, exc.fix))
            continue
        entries.append(BudgetEntry(code_id, amount, description))
    plan = plan_budget(session, project, entries)
    return BudgetPlan(
        entries=plan.entries,
        changes=plan.changes,
        kept=plan.kept,
        problems=tuple(problems),
        skipped=tuple(skipped),
        counts=plan.counts,
    )


# -- carrying entries between a preview and its confirmation ------------------------------------


def entries_json(entries: Iterable[BudgetEntry]) -> list[list[Any]]:
    """Entries as JSON (amounts as decimal strings), for a preview's confirm form to carry."""
    return [[e.cost_code_id, str(e.amount), e.description] for e in entries]


def entries_from_json(data: Any) -> list[BudgetEntry]:
    """The entries `entries_json` wrote.

    Raises:
        CostbridgeError: `data` is not such a list.
    """
    refused = CostbridgeError(
        "The confirmation does not carry a budget that can be read.",
        fix="Upload the file again and confirm its preview.",
    )
    if not isinstance(data, list):
        raise refused
    entries = []
    for item in data:
        if not (isinstance(item, list) and len(item) == 3):
            raise refused
        code_id, amount, description = item
        if not (code_id is None or isinstance(code_id, int)) or not isinstance(amount, str):
            raise refused
        if not (description is None or isinstance(description, str)):
            raise refused
        try:
            value = Decimal(amount).quantize(CENT)
        except ArithmeticError:
            raise refused from None
        entries.append(BudgetEntry(code_id, value, description))
    return entries
