"""Push failures grouped by root cause and by the record they point at, and re-sent per group.

Four bills refused because one item was made inactive are one cause, not four rows: "Item 06-200
Finish Carpentry is inactive in QuickBooks: 4 bills". A failure whose QBO record is known
(`OutboxEntry.error_target`, found at delivery by `core.push.targets`) is grouped by its Fault
code and that record, named from the local catalog (cost codes and their items and accounts,
vendors, employees, the projects' customers); any other by its Fault code and words. Each group
has a short stable key, so the console's button and `costbridge outbox retry --group KEY`
re-send exactly its rows (`resend_group`, through `core.push.outbox.retry`: a new requestid for
each, the marker look-up first). The console and the CLI only render what this module returns.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NeedsAdmin
from core.models import CostCode
from core.models import Employee
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import Vendor
from core.push import outbox

__all__ = ["FAILURES", "Cause", "failure_causes", "resend_group"]

#: The states a push failure is in (a superseded one is no failure any more).
FAILURES = (OutboxState.FAILED, OutboxState.NEEDS_ADMIN)
#: What a Fault code says about the record it points at.
REASONS = {
    "610": "is inactive in QuickBooks",
    "2500": "no longer exists in QuickBooks",
}
FIXES = {
    "610": "Make {label} active again in QuickBooks (or connect the records using it to an "
    "active one), then re-send these changes.",
    "2500": "Connect the records using {label} to a QuickBooks record that exists (or restore "
    "it in QuickBooks), then re-send these changes.",
}


@dataclass(frozen=True)
class Cause:
    """Push failures that share one root cause and the record it points at.

    Attributes:
        key: Short and stable: names the group to `resend_group` and on the command line.
        company_id: The company of its rows.
        sentence: The cause in words, naming the record when known.
        fix: What to do about it.
        code: QBO's Fault code, when QBO answered with one.
        target: The QBO record ("Item:7"), when known.
        outbox_ids: Its rows, oldest first.
        kinds: (local kind, how many) for the rows, most first.
    """

    key: str
    company_id: int
    sentence: str
    fix: str | None
    code: str | None
    target: str | None
    outbox_ids: tuple[int, ...]
    kinds: tuple[tuple[str, int], ...]

    @property
    def what(self) -> str:
        """Its rows in words: "4 bills", "3 bills and 1 time entry"."""
        parts = [_counted(kind, n) for kind, n in self.kinds]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    @property
    def headline(self) -> str:
        """The sentence and how many records it holds back."""
        return f"{self.sentence}: {self.what}"


def _counted(kind: str, n: int) -> str:
    word = kind.replace("_", " ")
    if n != 1:
        word = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{n} {word}"


def _key(company_id: int, code: str | None, target: str | None, words: str) -> str:
    raw = f"{company_id}|{code or ''}|{target or ''}|{'' if target else words}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:10]


def failure_causes(
    session: Session,
    *,
    company_ids: Iterable[int] | None = None,
    company_id: int | None = None,
) -> list[Cause]:
    """Every push failure, grouped; the largest group first.

    Args:
        session: A session.
        company_ids: Only these companies' (`core.scope.visible_company_ids`); None for all.
        company_id: Only this company's.
    """
    stmt = select(OutboxEntry).where(OutboxEntry.state.in_(FAILURES)).order_by(OutboxEntry.id)
    if company_ids is not None:
        stmt = stmt.where(OutboxEntry.company_id.in_(list(company_ids) or [-1]))
    if company_id is not None:
        stmt = stmt.where(OutboxEntry.company_id == company_id)
    rows = session.scalars(stmt).all()
    groups: dict[tuple[int, str | None, str | None, str], list[OutboxEntry]] = {}
    for row in rows:
        words = "" if row.error_target else (row.last_error or "Refused without an explanation.")
        groups.setdefault((row.company_id, row.error_code, row.error_target, words), []).append(row)
    names = _Names(session, {(c, t) for c, _code, t, _w in groups if t})
    causes = []
    for (company, code, target, words), members in groups.items():
        sentence, fix = words, members[-1].fix
        if target:
            label = names.label(company, target)
            reason = REASONS.get(code or "")
            if reason:
                sentence, fix = f"{label} {reason}", FIXES[code or ""].format(label=label)
            else:
                said = members[-1].last_error or "QuickBooks refused it"
                sentence = f"{label}: {said}"
        kinds = Counter(m.local_kind for m in members).most_common()
        causes.append(
            Cause(
                key=_key(company, code, target, words),
                company_id=company,
                sentence=sentence,
                fix=fix,
                code=code,
                target=target,
                outbox_ids=tuple(m.id for m in members),
                kinds=tuple(kinds),
            )
        )
    causes.sort(key=lambda c: (-len(c.outbox_ids), c.outbox_ids[0]))
    return causes


def by_row(causes: Sequence[Cause]) -> dict[int, Cause]:
    """Each failed row's cause, by outbox id (for a list of rows)."""
    return {row_id: cause for cause in causes for row_id in cause.outbox_ids}


def resend_group(
    session: Session, key: str, *, company_ids: Iterable[int] | None = None
) -> list[OutboxEntry]:
    """Put every row of one cause back to be sent (after the admin fixed it).

    Each goes as a new attempt (a new requestid); the marker look-up runs first, so a row that
    somehow reached QBO is never created twice. Commit, then enqueue the returned rows
    (`core.push.queueing.enqueue_recorded`).

    Raises:
        NeedsAdmin: No failure group has that key (any more).
    """
    for cause in failure_causes(session, company_ids=company_ids):
        if cause.key == key.strip():
            return outbox.retry(session, cause.outbox_ids)
    raise NeedsAdmin(
        f"There is no group of failed changes “{key}” (any more).",
        fix="List the groups again (`costbridge outbox list --group`, or the pushes page).",
    )


# -- naming QBO records from the local catalog ----------------------------------------------------


class _Names:
    """Names of the QBO records failures point at, read once for a listing."""

    def __init__(self, session: Session, wanted: set[tuple[int, str]]) -> None:
        self.session = session
        self.labels: dict[tuple[int, str], str] = {}
        by_entity: dict[str, set[str]] = {}
        companies = {company for company, _t in wanted}
        for _company, target in wanted:
            entity, _sep, qbo_id = target.partition(":")
            by_entity.setdefault(entity, set()).add(qbo_id)
        if not companies:
            return
        if "Item" in by_entity or "Account" in by_entity:
            self._codes(companies, by_entity.get("Item", set()), by_entity.get("Account", set()))
        vendors = by_entity.get("Vendor")
        if vendors:
            for vendor in session.scalars(
                select(Vendor).where(
                    Vendor.company_id.in_(companies), Vendor.qbo_vendor_id.in_(vendors)
                )
            ):
                self.labels.setdefault(
                    (vendor.company_id, f"Vendor:{vendor.qbo_vendor_id}"), f"Vendor {vendor.name}"
                )
        employees = by_entity.get("Employee")
        if employees:
            for employee in session.scalars(
                select(Employee).where(
                    Employee.company_id.in_(companies), Employee.qbo_employee_id.in_(employees)
                )
            ):
                self.labels.setdefault(
                    (employee.company_id, f"Employee:{employee.qbo_employee_id}"),
                    f"Employee {employee.name}",
                )
        customers = by_entity.get("Customer")
        if customers:
            for project in session.scalars(
                select(Project).where(
                    Project.company_id.in_(companies), Project.qbo_customer_id.in_(customers)
                )
            ):
                name = project.qbo_customer_name or project.name
                self.labels.setdefault(
                    (project.company_id, f"Customer:{project.qbo_customer_id}"),
                    f"Customer {name}",
                )

    def _codes(self, companies: set[int], items: set[str], accounts: set[str]) -> None:
        codes = self.session.scalars(
            select(CostCode)
            .where(
                CostCode.company_id.in_(companies),
                or_(
                    CostCode.qbo_item_id.in_(items or {""}),
                    CostCode.income_account_id.in_(accounts or {""}),
                    CostCode.expense_account_id.in_(accounts or {""}),
                ),
            )
            .order_by(CostCode.code)
        )
        for code in codes:
            if code.qbo_item_id in items:
                named = code.name if code.name.startswith(code.code) else f"{code.code} {code.name}"
                self.labels.setdefault(
                    (code.company_id, f"Item:{code.qbo_item_id}"), f"Item {named}"
                )
            for account_id, name in (
                (code.income_account_id, code.income_account_name),
                (code.expense_account_id, code.expense_account_name),
            ):
                if account_id in accounts:
                    self.labels.setdefault(
                        (code.company_id, f"Account:{account_id}"),
                        f"Account {name or account_id}",
                    )

    def label(self, company_id: int, target: str) -> str:
        """ "Item 06-200 Finish Carpentry", or the QBO entity and Id when not in the catalog."""
        found = self.labels.get((company_id, target))
        if found:
            return found
        entity, _sep, qbo_id = target.partition(":")
        return f"QuickBooks {entity.lower()} {qbo_id}"
