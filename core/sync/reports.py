"""What a project's actuals say, and why they may not say what the admin expects.

`budget` sums the stored actuals per cost code and per type (SQL aggregates: fast for a realm
of 100,000 lines). `doctor` looks for the reasons a project's costs did not arrive. `reconcile`
asks QBO afresh, maps every record through the same plugins and settings as a pull, and compares
the totals with what is stored. All three only read; the CLI and the admin console call them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import String
from sqlalchemy import cast
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
from core.models import SyncCursor
from core.plugins import PluginManager
from core.plugins import call_one
from core.qbo import queries
from core.sync.engine import is_gone
from core.sync.engine import pulled_entities
from core.sync.engine import realm_lookups
from core.sync.store import Router

ZERO = Decimal("0.00")
#: How many example records a finding names.
EXAMPLES = 5
UNCODED_CODE = "UNCODED"
UNCODED_NAME = "Uncoded (no connected cost code)"


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(ZERO)


def _counting(project: Project) -> list[ColumnElement[bool]]:
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
    actual_by_code: dict[int | None, Decimal] = {
        code: _money(total)
        for code, total in session.execute(
            select(Actual.cost_code_id, func.sum(Actual.amount))
            .where(*_counting(project))
            .group_by(Actual.cost_code_id)
        )
    }
    by_type = {
        str(getattr(kind, "value", kind)): _money(total)
        for kind, total in session.execute(
            select(Actual.actual_type, func.sum(Actual.amount))
            .where(*_counting(project))
            .group_by(Actual.actual_type)
        )
    }
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
    return BudgetReport(project.id, project.name, rows, by_type)


# -- doctor -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One reason a project's costs may be missing or wrong, with what to do about it."""

    code: str
    message: str
    fix: str
    count: int = 0
    examples: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """JSON-safe."""
        return {
            "code": self.code,
            "message": self.message,
            "fix": self.fix,
            "count": self.count,
            "examples": list(self.examples),
        }


def _examples(session: Session, *where: ColumnElement[bool]) -> tuple[str, ...]:
    """Up to `EXAMPLES` records ("Bill 123") having lines that match `where`."""
    rows = session.execute(
        select(Actual.qbo_entity, Actual.qbo_id)
        .where(*where)
        .group_by(Actual.qbo_entity, Actual.qbo_id)
        .order_by(Actual.qbo_entity, Actual.qbo_id)
        .limit(EXAMPLES)
    )
    return tuple(f"{entity} {qbo_id}" for entity, qbo_id in rows)


def _count(session: Session, *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(Actual).where(*where)) or 0)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def doctor(
    session: Session, pm: PluginManager, project: Project, company: Company
) -> list[Finding]:
    """Every reason found why the project's costs did not arrive (or do not count).

    Args:
        session: An open session (only read).
        pm: The plugin manager (for the plugins' labels).
        project: The project asked about.
        company: Its company.

    Returns:
        The findings, most fundamental first; empty when nothing looks wrong.
    """
    findings: list[Finding] = []
    realm = company.realm_id
    in_realm = Actual.realm_id == (realm or "")
    if not project.qbo_customer_id:
        unrouted = [in_realm, Actual.project_id.is_(None), Actual.customer_ref.is_not(None)]
        findings.append(
            Finding(
                "not_linked",
                f"The project “{project.name}” is not linked to a QuickBooks customer, so no "
                f"cost counts for it ({_count(session, *unrouted)} cost line(s) of the company "
                "belong to no project yet).",
                f'Link it: `costbridge projects link {project.id} --customer "Customer:Job"` '
                "or choose the customer on the project page.",
                1,
                _examples(session, *unrouted) if realm else (),
            )
        )
    if company.connection_status != ConnectionStatus.CONNECTED or not realm:
        reconnect = company.connection_status == ConnectionStatus.RECONNECT_NEEDED
        findings.append(
            Finding(
                "reconnect_needed" if reconnect else "company_disconnected",
                f"{company.name} "
                + (
                    "lost its QuickBooks connection"
                    + (f" ({company.connection_problem})" if company.connection_problem else "")
                    if reconnect
                    else "is not connected to QuickBooks"
                )
                + ", so nothing new can be pulled.",
                "Open the company page and choose "
                + ("Reconnect to QuickBooks." if reconnect else "Connect to QuickBooks."),
                1,
            )
        )
    if not realm:
        return findings
    cursors = session.scalar(
        select(func.count()).select_from(SyncCursor).where(SyncCursor.realm_id == realm)
    )
    if not cursors:
        findings.append(
            Finding(
                "never_pulled",
                f"{company.name}'s QuickBooks costs have never been pulled.",
                "Run `costbridge sync pull --company "
                f"{company.id}` or choose Sync Expenses on the project page.",
                1,
            )
        )
    no_customer = [in_realm, Actual.customer_ref.is_(None)]
    count = _count(session, *no_customer)
    if count:
        findings.append(
            Finding(
                "no_customer",
                f"{count} cost line(s) in QuickBooks have no Customer/Project on them, so they "
                "count for no project.",
                "In QuickBooks, open these transactions and choose the customer or project in "
                "the Customer/Project column of each line.",
                count,
                _examples(session, *no_customer),
            )
        )
    if project.qbo_customer_id:
        findings.extend(_linked_findings(session, project, in_realm))
    return findings


def _linked_findings(
    session: Session, project: Project, in_realm: ColumnElement[bool]
) -> list[Finding]:
    findings: list[Finding] = []
    customer = project.qbo_customer_name or project.qbo_customer_id or ""
    if _count(session, in_realm, Actual.customer_ref == project.qbo_customer_id) == 0:
        findings.append(
            Finding(
                "no_lines",
                f"QuickBooks has no cost lines for {customer} (as of the last pull).",
                "Check the project is linked to the customer the costs are entered against; "
                "then pull again.",
                0,
            )
        )
    if project.qbo_customer_name:
        prefix = _escape_like(project.qbo_customer_name + ":") + "%"
        children = [
            in_realm,
            Actual.customer_name.like(prefix, escape="\\"),
            Actual.customer_ref != project.qbo_customer_id,
            Actual.project_id.is_(None),
        ]
        count = _count(session, *children)
        if count:
            names = sorted(
                str(n)
                for n in session.scalars(select(Actual.customer_name).where(*children).distinct())
            )
            findings.append(
                Finding(
                    "sub_customer_lines",
                    f"{count} cost line(s) are booked to sub-customers or projects under "
                    f"{customer} ({'; '.join(names[:EXAMPLES])}), not to {customer} itself, so "
                    "they count for no project.",
                    "Link a project to each of those sub-customers, or move the lines to "
                    f"{customer} in QuickBooks.",
                    count,
                    _examples(session, *children),
                )
            )
    counting = _counting(project)
    uncoded = [*counting, Actual.cost_code_id.is_(None)]
    items = session.execute(
        select(Actual.item_name, func.count())
        .where(*uncoded, Actual.qbo_item_id.is_not(None))
        .group_by(Actual.item_name)
        .order_by(func.count().desc(), Actual.item_name)
    ).all()
    if items:
        total = sum(int(n) for _name, n in items)
        listed = "; ".join(f"{name or '(unnamed item)'} ({n})" for name, n in items[:10])
        findings.append(
            Finding(
                "uncoded_items",
                f"{total} cost line(s) use QuickBooks Products/Services that are not connected "
                f"to a cost code, so they show in the Uncoded row: {listed}.",
                "Connect these items to cost codes (Cost codes page, or import them in bulk); "
                "the lines move to their cost codes at the next pull.",
                total,
                _examples(session, *uncoded, Actual.qbo_item_id.is_not(None)),
            )
        )
    no_item = [*uncoded, Actual.qbo_item_id.is_(None)]
    count = _count(session, *no_item)
    if count:
        findings.append(
            Finding(
                "no_item",
                f"{count} cost line(s) were entered by account, with no Product/Service, so they "
                "show in the Uncoded row.",
                "In QuickBooks, enter these lines under Item details with the Product/Service "
                "of their cost code.",
                count,
                _examples(session, *no_item),
            )
        )
    used = session.execute(
        select(Actual.cost_code_id, func.count())
        .where(*counting, Actual.cost_code_id.is_not(None))
        .group_by(Actual.cost_code_id)
    ).all()
    lines_by_code = {int(code): int(n) for code, n in used if code is not None}
    if lines_by_code:
        for code in session.scalars(
            select(CostCode).where(CostCode.id.in_(lines_by_code)).order_by(CostCode.code)
        ):
            problem = code.usability_problem()
            if problem is None:
                continue
            n = lines_by_code[code.id]
            findings.append(
                Finding(
                    "item_not_usable",
                    f"Cost code {code.code} {code.name} ({n} line(s)): its item cannot serve "
                    f"yet: {problem}.",
                    f"In QuickBooks, {problem}; then re-import the cost code.",
                    n,
                    _examples(session, *counting, Actual.cost_code_id == code.id),
                )
            )
    excluded = session.execute(
        select(Actual.excluded_reason, func.count())
        .where(Actual.project_id == project.id, Actual.excluded_reason.is_not(None))
        .group_by(Actual.excluded_reason)
        .order_by(func.count().desc(), Actual.excluded_reason)
    ).all()
    for reason, n in excluded:
        plugin_off = "plugin is turned off" in str(reason)
        findings.append(
            Finding(
                "plugin_disabled" if plugin_off else "excluded_by_setting",
                f"{n} cost line(s) do not count because {reason}.",
                "Turn the plugin on in the project's settings if these costs belong in the budget."
                if plugin_off
                else "Change the project's settings if these costs belong in the budget "
                "(`costbridge projects set`); the lines count at once, without a new pull.",
                int(n),
                _examples(
                    session, Actual.project_id == project.id, Actual.excluded_reason == reason
                ),
            )
        )
    no_rate = [*counting, cast(Actual.flags, String).like('%"no_cost_rate"%')]
    count = _count(session, *no_rate)
    if count:
        findings.append(
            Finding(
                "no_cost_rate",
                f"{count} time entr(ies) have no cost rate on the entry, the employee or the "
                "vendor, so their hours count at 0.",
                "In QuickBooks, set a Cost rate on those employees (Payroll → Employees → "
                "Cost rate) or on the time entries; the next pull counts them.",
                count,
                _examples(session, *no_rate),
            )
        )
    return findings


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
        .where(*_counting(project))
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
