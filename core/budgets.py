"""A project's budget: one line per cost code, set by hand or imported, every change kept.

One way in: the console's grid, its CSV import, `costbridge budget set` and `costbridge budget
import` all end in `apply_budget`, which writes the lines and one `BudgetChange` per line that
changed (who, when, which way in, old and new). Reading a CSV (`core.budget_import.read_csv`)
writes nothing: it says what would change, and what is wrong row by row, so the admin can look
before confirming.

A cost code is named by its code or, else, by its name, as bills take it (`core.lookup`); the
word `UNCODED` names the Uncoded row. Amounts are read only by `core.money.parse_amount`
(separators, `$`, negatives as `-50` or `(50)`). Lines a file does not mention are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import CostbridgeError
from core.lookup import company_cost_codes
from core.lookup import find_cost_code
from core.lookup import fold
from core.models import BudgetChange
from core.models import BudgetLine
from core.models import CostCode
from core.models import Project
from core.money import parse_amount

if TYPE_CHECKING:
    from core.sync.reports import BudgetReport

__all__ = [
    "UNCODED",
    "BudgetEntry",
    "BudgetPlan",
    "LineChange",
    "RowProblem",
    "apply_budget",
    "apply_confirmed",
    "check_amount",
    "check_description",
    "budget_grid",
    "code_label",
    "parse_assignments",
    "plan_budget",
    "read_amount",
    "resolve_code",
    "typed_entries",
]

#: How the Uncoded row (lines with no connected cost code) is named in files and commands.
UNCODED = "UNCODED"
#: Largest amount a budget line holds (NUMERIC(14, 2)).
MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")
#: Longest description a line keeps.
MAX_DESCRIPTION = 500
#: Which ways in a change can come (`BudgetChange.source`).
SOURCES = ("console", "cli", "import")


@dataclass(frozen=True)
class BudgetEntry:
    """The budget wanted for one cost code of a project (None: the Uncoded row).

    `description` None keeps the line's description as it is; an empty one clears it.
    """

    cost_code_id: int | None
    amount: Decimal
    description: str | None = None


@dataclass(frozen=True)
class LineChange:
    """What saving an entry does to one budget line."""

    cost_code_id: int | None
    code: str
    label: str
    action: str  # "add", "change" or "unchanged"
    old_amount: Decimal | None
    new_amount: Decimal
    old_description: str | None
    new_description: str | None

    def as_json(self) -> dict[str, Any]:
        """JSON-safe, money as decimal strings."""
        return {
            "cost_code_id": self.cost_code_id,
            "code": self.code,
            "label": self.label,
            "action": self.action,
            "old_amount": None if self.old_amount is None else str(self.old_amount),
            "new_amount": str(self.new_amount),
            "old_description": self.old_description,
            "new_description": self.new_description,
        }


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row of a file, and how to fix it (row 1 is the file's first)."""

    row: int
    message: str
    fix: str

    def as_json(self) -> dict[str, Any]:
        """JSON-safe."""
        return {"row": self.row, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class BudgetPlan:
    """What saving `entries` would change, before anything is written."""

    entries: tuple[BudgetEntry, ...]
    changes: tuple[LineChange, ...]
    #: Labels of the project's lines the entries do not mention: they are kept as they are.
    kept: tuple[str, ...] = ()
    problems: tuple[RowProblem, ...] = ()
    #: Rows read and left out on purpose (a total row), in words.
    skipped: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the plan may be saved (no row is wrong)."""
        return not self.problems

    @property
    def fingerprint(self) -> str:
        """A digest of what would change, from what: a confirmation must see the same."""
        body = [
            [
                c.cost_code_id,
                str(c.new_amount),
                c.new_description,
                None if c.old_amount is None else str(c.old_amount),
                c.old_description,
            ]
            for c in self.changes
        ]
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def as_json(self) -> dict[str, Any]:
        """JSON-safe: the changes, the kept lines, problems and counts."""
        return {
            "ok": self.ok,
            "counts": dict(self.counts),
            "changes": [c.as_json() for c in self.changes],
            "kept": list(self.kept),
            "problems": [p.as_json() for p in self.problems],
            "skipped": list(self.skipped),
        }


# -- naming cost codes --------------------------------------------------------------------------


def code_label(code: CostCode | None) -> str:
    """A cost code as people read it (an item imported as its own code is not named twice)."""
    if code is None:
        return "Uncoded"
    return code.name if code.name.startswith(code.code) else f"{code.code} {code.name}"


def resolve_code(
    session: Session, project: Project, text: str, codes: Sequence[CostCode]
) -> CostCode | None:
    """The project's company's cost code `text` names (code, else name); None for `UNCODED`.

    Raises:
        CostbridgeError: No cost code is so called (the message names the closest ones).
    """
    try:
        return find_cost_code(session, project.company_id, text, codes=codes)
    except CostbridgeError:
        if fold(text) == fold(UNCODED):
            return None
        raise


def read_amount(raw: str, what: str) -> Decimal:
    """`raw` read by `parse_amount` (negatives allowed), in cents, and not too large."""
    amount = parse_amount(raw, what, negative=True).quantize(CENT)
    check_amount(amount, what)
    return amount


def check_amount(amount: Decimal, what: str) -> None:
    if abs(amount) > MAX_AMOUNT:
        raise CostbridgeError(
            f"{what} {amount:,} is larger than a budget line holds.",
            fix="Budget lines hold up to 999,999,999,999.99; check the number.",
        )


def check_description(description: str | None, what: str) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise CostbridgeError(
            f"{what} is {len(description)} characters long.",
            fix=f"Shorten it to {MAX_DESCRIPTION} characters at most.",
        )


# -- planning and saving ------------------------------------------------------------------------


def _lines(session: Session, project: Project) -> dict[int | None, BudgetLine]:
    return {
        line.cost_code_id: line
        for line in session.scalars(
            select(BudgetLine).where(BudgetLine.project_id == project.id).order_by(BudgetLine.id)
        )
    }


def plan_budget(session: Session, project: Project, entries: Iterable[BudgetEntry]) -> BudgetPlan:
    """What saving `entries` on `project` would add or change; writes nothing.

    Raises:
        CostbridgeError: An entry names a cost code of another company (or none that exists),
            names one cost code twice, or holds an amount or description too large.
    """
    wanted = tuple(entries)
    current = _lines(session, project)
    ids = {e.cost_code_id for e in wanted if e.cost_code_id is not None}
    ids |= {c for c in current if c is not None}
    codes = (
        {c.id: c for c in session.scalars(select(CostCode).where(CostCode.id.in_(ids)))}
        if ids
        else {}
    )
    seen: set[int | None] = set()
    changes = []
    for entry in wanted:
        code = codes.get(entry.cost_code_id) if entry.cost_code_id is not None else None
        if entry.cost_code_id is not None and (
            code is None or code.company_id != project.company_id
        ):
            raise CostbridgeError(
                "That cost code is not one of this project's company's.",
                fix="Choose one of the company's cost codes.",
            )
        label = code_label(code)
        if entry.cost_code_id in seen:
            raise CostbridgeError(
                f"{label} is given twice.", fix="Give each cost code's budget once."
            )
        seen.add(entry.cost_code_id)
        check_amount(entry.amount, f"The budget of {label}")
        check_description(entry.description, f"The description of {label}")
        line = current.get(entry.cost_code_id)
        old_amount = line.budget_amount if line is not None else None
        old_description = line.description if line is not None else None
        new_description = (
            old_description if entry.description is None else (entry.description.strip() or None)
        )
        if line is None:
            action = "add"
        elif old_amount != entry.amount or old_description != new_description:
            action = "change"
        else:
            action = "unchanged"
        changes.append(
            LineChange(
                cost_code_id=entry.cost_code_id,
                code=code.code if code is not None else UNCODED,
                label=label,
                action=action,
                old_amount=old_amount,
                new_amount=entry.amount,
                old_description=old_description,
                new_description=new_description,
            )
        )
    kept = tuple(
        code_label(codes.get(code_id) if code_id is not None else None)
        for code_id in current
        if code_id not in seen
    )
    counts = {"add": 0, "change": 0, "unchanged": 0}
    for change in changes:
        counts[change.action] += 1
    counts["kept"] = len(kept)
    return BudgetPlan(entries=wanted, changes=tuple(changes), kept=kept, counts=counts)


def apply_budget(
    session: Session,
    project: Project,
    entries: Iterable[BudgetEntry],
    *,
    source: str,
    changed_by: str | None,
) -> BudgetPlan:
    """Save `entries` on `project`: the one way a budget line is written.

    Each line that is added or changed gets a `BudgetChange` (who, when, `source`, old and new);
    an entry equal to its line writes nothing. Lines not in `entries` are kept. The caller
    commits.

    Raises:
        CostbridgeError: As `plan_budget`; nothing is written then.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown budget change source {source!r}")
    plan = plan_budget(session, project, entries)
    current = _lines(session, project)
    now = utcnow()
    for change in plan.changes:
        if change.action == "unchanged":
            continue
        line = current.get(change.cost_code_id)
        if line is None:
            line = BudgetLine(project_id=project.id, cost_code_id=change.cost_code_id)
            session.add(line)
        line.budget_amount = change.new_amount
        line.description = change.new_description
        session.add(
            BudgetChange(
                project_id=project.id,
                cost_code_id=change.cost_code_id,
                code=change.code,
                old_amount=change.old_amount,
                new_amount=change.new_amount,
                old_description=change.old_description,
                new_description=change.new_description,
                source=source,
                changed_by=changed_by,
                changed_at=now,
            )
        )
    session.flush()
    return plan


def apply_confirmed(
    session: Session,
    project: Project,
    entries: Iterable[BudgetEntry],
    fingerprint: str,
    *,
    source: str,
    changed_by: str | None,
) -> BudgetPlan:
    """Save entries an admin confirmed after seeing their preview, if the preview still holds.

    Raises:
        CostbridgeError: The budget changed since the preview (someone else saved meanwhile):
            nothing is written, and the admin looks at the new preview.
    """
    wanted = tuple(entries)
    if plan_budget(session, project, wanted).fingerprint != fingerprint:
        raise CostbridgeError(
            "The budget changed since this preview was made, so nothing was saved.",
            fix="Upload the file again to see what it would change now, then confirm.",
        )
    return apply_budget(session, project, wanted, source=source, changed_by=changed_by)


# -- typed and imported entries -----------------------------------------------------------------


def parse_assignments(
    session: Session, project: Project, items: Sequence[str]
) -> list[BudgetEntry]:
    """`CODE=AMOUNT` items (as `costbridge budget set` takes them) as entries.

    Raises:
        CostbridgeError: An item is not `CODE=AMOUNT`, names no cost code, or its amount is not
            a number (the message quotes it).
    """
    if not items:
        raise CostbridgeError(
            "Say which budget lines to set.", fix="Add CODE=AMOUNT, such as 01-100=12500."
        )
    codes = company_cost_codes(session, project.company_id)
    entries = []
    for item in items:
        text, sep, raw = item.rpartition("=")
        if not sep or not text.strip():
            raise CostbridgeError(
                f"“{item}” is not CODE=AMOUNT.",
                fix="Write the cost code's code or name, =, and the amount: 01-100=12500.",
            )
        code = resolve_code(session, project, text.strip(), codes)
        amount = read_amount(raw, f"The budget of {text.strip()}")
        entries.append(BudgetEntry(code.id if code is not None else None, amount))
    return entries


def typed_entries(
    typed: Mapping[int | None, tuple[str, str | None]],
) -> tuple[list[BudgetEntry], dict[int | None, str]]:
    """Amounts (and descriptions) typed per cost code id in a grid, as entries.

    A blank amount is 0. Returns the entries and, per cost code id, what is wrong with its
    amount (an entry is made only when nothing is).
    """
    entries = []
    problems: dict[int | None, str] = {}
    for code_id, (raw, description) in typed.items():
        try:
            amount = read_amount(raw, "The budget") if raw.strip() else Decimal("0.00")
            check_description(description, "The description")
        except CostbridgeError as exc:
            problems[code_id] = f"{exc.message} {exc.fix}"
            continue
        entries.append(BudgetEntry(code_id, amount, description))
    return entries, problems


# -- the console's grid -------------------------------------------------------------------------


@dataclass(frozen=True)
class GridRow:
    """One row of the budget grid: a cost code of the company (or Uncoded), its budget and
    description, and the actuals that count against it."""

    key: str  # the cost code's id, or "uncoded"
    cost_code_id: int | None
    label: str
    budgeted: Decimal
    actual: Decimal
    description: str | None

    @property
    def variance(self) -> Decimal:
        """Budget left (negative: over budget)."""
        return self.budgeted - self.actual


def budget_grid(
    session: Session, project: Project, report: BudgetReport | None = None
) -> list[GridRow]:
    """Every cost code of the project's company, by code, then the Uncoded row.

    Figures come from `core.sync.reports.budget` (the same as the report and the CLI); cost
    codes with neither budget nor actuals show with zeros, so a budget can be entered for any.
    """
    if report is None:
        from core.sync.reports import budget

        report = budget(session, project)
    by_id = {row.cost_code_id: row for row in report.lines}
    lines = _lines(session, project)
    codes = sorted(
        company_cost_codes(session, project.company_id), key=lambda c: (fold(c.code), c.id)
    )
    zero = Decimal("0.00")
    rows = []
    for code in codes:
        row = by_id.pop(code.id, None)
        line = lines.get(code.id)
        rows.append(
            GridRow(
                key=str(code.id),
                cost_code_id=code.id,
                label=code_label(code),
                budgeted=row.budgeted if row else zero,
                actual=row.actual if row else zero,
                description=line.description if line else None,
            )
        )
    uncoded = by_id.pop(None, None)
    # Lines of cost codes since deleted (or of another company) still count in the totals.
    for code_id, row in by_id.items():
        line = lines.get(code_id)
        rows.append(
            GridRow(
                key=str(code_id),
                cost_code_id=code_id,
                label=f"{row.code} {row.name}",
                budgeted=row.budgeted,
                actual=row.actual,
                description=line.description if line else None,
            )
        )
    line = lines.get(None)
    rows.append(
        GridRow(
            key="uncoded",
            cost_code_id=None,
            label=uncoded.name if uncoded else "Uncoded",
            budgeted=uncoded.budgeted if uncoded else zero,
            actual=uncoded.actual if uncoded else zero,
            description=line.description if line else None,
        )
    )
    return rows
