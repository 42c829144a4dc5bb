"""What a project's actuals say: its budget, and a reconciliation with QBO.

`budget` sums the stored actuals per cost code and per type (SQL aggregates: fast for a realm
of 100,000 lines). `reconcile`
asks QBO afresh, maps every record through the same plugins and settings as a pull, and compares
the totals with what is stored. Both only read; the CLI and the admin console call them
(the doctor is in `core.sync.doctor`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import QboRecord
from core.errors import CostbridgeError
from core.models import Actual
from core.models import BudgetLine
from core.models import Company
from core.models import ConnectionStatus
from core.models import CostCode
from core.models import Project
from core.plugins import PluginManager
from core.plugins import call_one
from core.qbo import queries
from core.sync.realm import realm_lookups
from core.sync.records import is_gone
from core.sync.records import pulled_entities
from core.sync.store import Router

ZERO = Decimal("0.00")
UNCODED_CODE = "UNCODED"
UNCODED_NAME = "Uncoded (no connected cost code)"


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(ZERO)


def counting(project: Project) -> list[ColumnElement[bool]]:
    """The conditions of a line that counts against `project`'s budget."""
    return [Actual.project_id == project.id, Actual.excluded_reason.is_(None)]


# -- budget -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetRow:
    """One cost-code line of a project's budget (cost_code_id None: the Uncoded row)."""

    cost_code_id: int | None
    code: str
    name: str
    budgeted: Decimal
    actual: Decimal

    @property
    def variance(self) -> Decimal:
        """Budget left (negative: over budget)."""
        return self.budgeted - self.actual

    def as_json(self) -> dict[str, Any]:
        """JSON-safe, with decimal strings."""
        return {
            "cost_code_id": self.cost_code_id,
            "code": self.code,
            "name": self.name,
            "budgeted": str(self.budgeted),
            "actual": str(self.actual),
            "variance": str(self.variance),
        }


@dataclass(frozen=True)
class BudgetReport:
    """A project's budget against its actuals."""

    project_id: int
    project_name: str
    lines: list[BudgetRow]
    totals_by_type: dict[str, Decimal]

    @property
    def total_actual(self) -> Decimal:
        """Every counting actual of the project."""
        return sum((row.actual for row in self.lines), ZERO)

    @property
    def total_budget(self) -> Decimal:
        """Every budgeted amount of the project."""
        return sum((row.budgeted for row in self.lines), ZERO)

    @property
    def total_variance(self) -> Decimal:
        """Budget left over all lines."""
        return self.total_budget - self.total_actual

    def as_json(self) -> dict[str, Any]:
        """JSON-safe, with decimal strings."""
        return {
            "project_id": self.project_id,
            "project_name": self.project_name,
            "lines": [row.as_json() for row in self.lines],
            "totals_by_type": {k: str(v) for k, v in sorted(self.totals_by_type.items())},
            "total_actual": str(self.total_actual),
            "total_budget": str(self.total_budget),
            "total_variance": str(self.total_variance),
        }


def budget(session: Session, project: Project) -> BudgetReport:
    """Budgeted, actual and variance per cost code (Uncoded row always last), totals per type."""
    # One pass over the project's lines gives both breakdowns (exact decimals, added here).
    actual_by_code: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    by_type: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for code, kind, total in session.execute(
        select(Actual.cost_code_id, Actual.actual_type, func.sum(Actual.amount))
        .where(*counting(project))
        .group_by(Actual.cost_code_id, Actual.actual_type)
    ):
        actual_by_code[code] += _money(total)
        by_type[str(getattr(kind, "value", kind))] += _money(total)
    budget_by_code: dict[int | None, Decimal] = {
        code: _money(total)
        for code, total in session.execute(
            select(BudgetLine.cost_code_id, func.sum(BudgetLine.budget_amount))
            .where(BudgetLine.project_id == project.id)
            .group_by(BudgetLine.cost_code_id)
        )
    }
    ids = sorted({c for c in (*actual_by_code, *budget_by_code) if c is not None})
    codes = (
        {c.id: c for c in session.scalars(select(CostCode).where(CostCode.id.in_(ids)))}
        if ids
        else {}
    )
    rows = [
        BudgetRow(
            code_id,
            codes[code_id].code if code_id in codes else f"#{code_id}",
            codes[code_id].name if code_id in codes else "(deleted cost code)",
            budget_by_code.get(code_id, ZERO),
            actual_by_code.get(code_id, ZERO),
        )
        for code_id in ids
    ]
    rows.sort(key=lambda r: (r.code.casefold(), r.cost_code_id or 0))
    rows.append(
        BudgetRow(
            None,
            UNCODED_CODE,
            UNCODED_NAME,
            budget_by_code.get(None, ZERO),
            actual_by_code.get(None, ZERO),
        )
    )
    return BudgetReport(project.id, project.name, rows, dict(by_type))


# -- reconciliation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeTotal:
    """One actual type's total as stored and as QBO has it now."""

    actual_type: str
    stored: Decimal
    fresh: Decimal

    @property
    def difference(self) -> Decimal:
        """Fresh minus stored (positive: QBO has more than costbridge shows)."""
        return self.fresh - self.stored

    def as_json(self) -> dict[str, Any]:
        """JSON-safe, with decimal strings."""
        return {
            "actual_type": self.actual_type,
            "stored": str(self.stored),
            "fresh": str(self.fresh),
            "difference": str(self.difference),
        }


@dataclass(frozen=True)
class RecordDrift:
    """One QBO record whose counting amount differs between costbridge and QBO."""

    entity: str
    qbo_id: str
    kind: str  # "missing_here", "missing_in_qbo" or "amount_differs"
    stored: Decimal | None
    fresh: Decimal | None

    def as_json(self) -> dict[str, Any]:
        """JSON-safe, with decimal strings."""
        return {
            "entity": self.entity,
            "qbo_id": self.qbo_id,
            "kind": self.kind,
            "stored": None if self.stored is None else str(self.stored),
            "fresh": None if self.fresh is None else str(self.fresh),
        }


@dataclass
class Reconciliation:
    """Stored actuals of a project compared with fresh QBO queries."""

    project_id: int
    by_type: list[TypeTotal] = field(default_factory=list)
    drift: list[RecordDrift] = field(default_factory=list)
    records_read: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def in_step(self) -> bool:
        """Whether costbridge shows exactly what QBO has."""
        return not self.drift and all(t.difference == 0 for t in self.by_type)

    def as_json(self) -> dict[str, Any]:
        """JSON-safe, with decimal strings."""
        return {
            "project_id": self.project_id,
            "in_step": self.in_step,
            "records_read": self.records_read,
            "by_type": [t.as_json() for t in self.by_type],
            "drift": [d.as_json() for d in self.drift],
            "problems": list(self.problems),
        }


def reconcile(
    session: Session, pm: PluginManager, project: Project, company: Company, client: Any
) -> Reconciliation:
    """Compare the project's stored actuals with what QBO says now; writes nothing.

    Every pulled entity is queried afresh, mapped by its plugin and judged with the project's
    settings exactly as a pull would, and the counting totals are compared per actual type and
    per record.

    Raises:
        CostbridgeError: The project is not linked or its company is not connected.
    """
    if not project.qbo_customer_id:
        raise CostbridgeError(
            f"The project “{project.name}” is not linked to a QuickBooks customer.",
            fix=f'Link it first: `costbridge projects link {project.id} --customer "NAME"`.',
        )
    if company.connection_status != ConnectionStatus.CONNECTED or not company.realm_id:
        raise CostbridgeError(
            f"{company.name} is not connected to QuickBooks.",
            fix="Open the company page and choose Connect to QuickBooks (or Reconnect).",
        )
    report = Reconciliation(project.id)
    stored: dict[tuple[str, str], Decimal] = {}
    stored_types: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entity, qbo_id, actual_type, total in session.execute(
        select(Actual.qbo_entity, Actual.qbo_id, Actual.actual_type, func.sum(Actual.amount))
        .where(*counting(project))
        .group_by(Actual.qbo_entity, Actual.qbo_id, Actual.actual_type)
    ):
        key = (str(entity), str(qbo_id))
        stored[key] = stored.get(key, ZERO) + _money(total)
        stored_types[str(getattr(actual_type, "value", actual_type))] += _money(total)
    fresh, fresh_types = _fresh_totals(session, pm, project, company, client, report)
    for name in sorted(set(stored_types) | set(fresh_types)):
        report.by_type.append(
            TypeTotal(name, stored_types.get(name, ZERO), fresh_types.get(name, ZERO))
        )
    for key in sorted(set(stored) | set(fresh)):
        here, there = stored.get(key), fresh.get(key)
        if here == there:
            continue
        kind = (
            "missing_here"
            if here is None
            else "missing_in_qbo"
            if there is None
            else "amount_differs"
        )
        report.drift.append(RecordDrift(key[0], key[1], kind, here, there))
    return report


def _fresh_totals(
    session: Session,
    pm: PluginManager,
    project: Project,
    company: Company,
    client: Any,
    report: Reconciliation,
) -> tuple[dict[tuple[str, str], Decimal], dict[str, Decimal]]:
    """Counting totals per record and per type, from fresh QBO queries."""
    router = Router(pm, [project])
    lookups, rates = realm_lookups(session, company, client)
    per_record: dict[tuple[str, str], Decimal] = {}
    per_type: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entity, plugin in pulled_entities(pm).items():
        rows = [
            r for r in client.query_all(entity, page_size=queries.MAX_RESULTS) if not is_gone(r)
        ]
        report.records_read += len(rows)
        if entity == "TimeActivity":
            rates.prefetch(rows)
        for row in rows:
            record = QboRecord(entity, row)
            try:
                lines: Sequence[Any] = (
                    call_one(pm, plugin, "actual_lines", record=record, lookups=lookups) or ()
                )
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the check
                report.problems.append(f"{entity} {record.id}: the {plugin} plugin failed: {exc}")
                continue
            for line in lines:
                project_id, reason = router.route(plugin, line.customer_id, line.exclusions)
                if project_id != project.id or reason is not None:
                    continue
                key = (entity, record.id)
                per_record[key] = per_record.get(key, ZERO) + line.amount
                per_type[str(line.actual_type)] += line.amount
    return per_record, dict(per_type)
