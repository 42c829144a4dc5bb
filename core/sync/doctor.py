"""Why a project's costs did not arrive: the doctor's findings, each with a count and a fix.

Reads only; the CLI and the admin console call `doctor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import String
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Actual
from core.models import Company
from core.models import ConnectionStatus
from core.models import CostCode
from core.models import Project
from core.models import SyncCursor
from core.plugins import PluginManager
from core.sync.reports import counting as counting_lines

#: How many example records a finding names.
EXAMPLES = 5


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
    counting = counting_lines(project)
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
                    f"Cost code {code.label} ({n} line(s)): its item cannot serve yet: {problem}.",
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
