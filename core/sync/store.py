"""Writing a realm's cost lines: routing to projects, exclusions, and per-record replacement.

A record's lines are replaced as a whole (in the caller's transaction): lines that are new are
inserted, changed ones updated in place (their ids stay), and lines the record no longer has are
deleted, so an edited record, a line moved to another customer and a deleted or voided record all
come out right. Every change is also described as a `LineChange`, which is all a dry run shows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any
from typing import cast

from sqlalchemy import Connection
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.contracts import CandidateLine
from core.contracts import Exclusion
from core.db import utcnow
from core.models import Actual
from core.models import Project
from core.plugins import PluginManager
from core.project_settings import effective_settings

#: Columns compared to decide whether a stored line changed.
COMPARED = (
    "sync_token",
    "plugin",
    "project_id",
    "customer_ref",
    "customer_name",
    "cost_code_id",
    "actual_type",
    "txn_date",
    "payee",
    "doc_number",
    "description",
    "billable_status",
    "hours",
    "cost_rate",
    "amount",
    "qbo_item_id",
    "item_name",
    "account_id",
    "account_name",
    "class_id",
    "class_name",
    "location_id",
    "location_name",
    "currency",
    "exchange_rate",
    "original_amount",
    "exclusions",
    "excluded_reason",
    "flags",
)


@dataclass(frozen=True)
class ProjectRule:
    """What decides whether a line counts for one linked project."""

    project_id: int
    settings: Mapping[str, object]
    enabled: frozenset[str]


class Router:
    """Sends each line to the project linked to its customer, and says why it does not count.

    Built once per pull (or per re-application) from the company's linked projects.
    """

    def __init__(self, pm: PluginManager, projects: Iterable[Project]) -> None:
        """Index the linked projects by QBO customer id (the lowest project id wins a tie)."""
        self.labels = {name: info.label for name, info in pm.infos.items()}
        self.by_customer: dict[str, ProjectRule] = {}
        for project in sorted(projects, key=lambda p: p.id):
            if project.qbo_customer_id and project.qbo_customer_id not in self.by_customer:
                self.by_customer[project.qbo_customer_id] = ProjectRule(
                    project.id,
                    effective_settings(pm, project),
                    frozenset(project.enabled_plugin_names(pm.names())),
                )

    @classmethod
    def for_company(cls, session: Session, pm: PluginManager, company_id: int) -> Router:
        """The router for every linked project of a company."""
        projects = session.scalars(
            select(Project).where(
                Project.company_id == company_id, Project.qbo_customer_id.is_not(None)
            )
        )
        return cls(pm, projects)

    def route(
        self, plugin: str, customer: str | None, exclusions: Sequence[Exclusion]
    ) -> tuple[int | None, str | None]:
        """The project a line belongs to (None: no linked project) and why it is left out."""
        rule = self.by_customer.get(customer) if customer else None
        if rule is None:
            return None, None
        if plugin not in rule.enabled:
            label = self.labels.get(plugin, plugin)
            return rule.project_id, f"the {label} plugin is turned off for this project"
        for exclusion in exclusions:
            if exclusion.applies(rule.settings):
                return rule.project_id, exclusion.reason
        return rule.project_id, None


@dataclass(frozen=True)
class LineChange:
    """One line a pull adds, changes or removes (what a dry run lists)."""

    action: str  # "add", "change" or "remove"
    entity: str
    qbo_id: str
    line_id: str
    project_id: int | None
    actual_type: str
    amount: Decimal
    old_amount: Decimal | None = None
    counts: bool = False

    def as_json(self) -> dict[str, Any]:
        """JSON-safe, with decimal strings."""
        return {
            "action": self.action,
            "entity": self.entity,
            "qbo_id": self.qbo_id,
            "line_id": self.line_id,
            "project_id": self.project_id,
            "actual_type": self.actual_type,
            "amount": str(self.amount),
            "old_amount": None if self.old_amount is None else str(self.old_amount),
            "counts": self.counts,
        }


@dataclass
class WriteTally:
    """What one pull wrote; `changes` holds the line changes (capped for huge first syncs)."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    changes: list[LineChange] = field(default_factory=list)
    keep_changes: int = 5000

    def note(self, action: str, row: Mapping[str, Any], before: Mapping[str, Any] | None) -> None:
        """Count a change, and describe it while under the cap."""
        setattr(self, _COUNTER[action], getattr(self, _COUNTER[action]) + 1)
        if len(self.changes) < self.keep_changes:
            self.changes.append(_change(action, row, before))


#: Written on every changed line from the pull that changed it (not compared).
LINEAGE = ("qbo_updated_at", "sync_run_id", "pulled_at")
#: Changes that only refresh a line's lineage (a new SyncToken): written, not reported.
LINEAGE_ONLY = frozenset({"sync_token"})
JSON_COLUMNS = ("exclusions", "flags")
#: From this many new lines in one batch, PostgreSQL's COPY inserts them.
COPY_FROM = 200
_COUNTER = {"add": "added", "change": "changed", "remove": "removed"}


def line_values(
    realm_id: str,
    entity: str,
    qbo_id: str,
    sync_token: str | None,
    updated_at: dt.datetime | None,
    plugin: str,
    line: CandidateLine,
    router: Router,
    run_id: int | None,
) -> dict[str, Any]:
    """The `actual` row for one candidate line, routed and judged."""
    project_id, reason = router.route(plugin, line.customer_id, line.exclusions)
    return {
        "realm_id": realm_id,
        "qbo_entity": entity,
        "qbo_id": qbo_id,
        "qbo_line_id": line.line_id,
        "sync_token": sync_token,
        "plugin": plugin,
        "project_id": project_id,
        "customer_ref": line.customer_id,
        "customer_name": line.customer_name,
        "cost_code_id": line.cost_code_id,
        "actual_type": line.actual_type,
        "txn_date": line.txn_date,
        "payee": _cut(line.payee, 500),
        "doc_number": _cut(line.doc_number, 40),
        "description": line.description,
        "billable_status": line.billable_status,
        "hours": line.hours,
        "cost_rate": _fine(line.cost_rate),
        "amount": line.amount,
        "qbo_item_id": line.item.value if line.item else None,
        "item_name": line.item.name if line.item else None,
        "account_id": line.account.value if line.account else None,
        "account_name": line.account.name if line.account else None,
        "class_id": line.klass.value if line.klass else None,
        "class_name": line.klass.name if line.klass else None,
        "location_id": line.location.value if line.location else None,
        "location_name": line.location.name if line.location else None,
        "currency": line.currency,
        "exchange_rate": _fine(line.exchange_rate),
        "original_amount": line.original_amount,
        "exclusions": [[e.setting, e.excluded_when, e.reason] for e in line.exclusions],
        "excluded_reason": reason,
        "flags": list(line.flags),
        "qbo_updated_at": updated_at,
        "sync_run_id": run_id,
    }


def _fine(rate: Decimal | None) -> Decimal | None:
    """A rate as stored for lineage: eight places, half up (the amount used it unrounded)."""
    return None if rate is None else rate.quantize(Decimal("1e-8"), rounding=ROUND_HALF_UP)


def _cut(text: str | None, size: int) -> str | None:
    return text if text is None or len(text) <= size else text[: size - 1] + "…"


class LineWriter:
    """Replaces the lines of many records at once: one SELECT, then bulk INSERT/UPDATE/DELETE."""

    def __init__(self, session: Session, realm_id: str, tally: WriteTally, *, dry_run: bool):
        """Write into `session` (the caller commits), or only describe when `dry_run`."""
        self.session = session
        self.realm_id = realm_id
        self.tally = tally
        self.dry_run = dry_run
        self.fresh: set[str] = set()

    def start_full_read(self, entity: str) -> None:
        """Before a complete re-query: when the realm has no line of `entity` yet, every record
        read is new, so the per-page look-up of existing lines is skipped."""
        found = self.session.scalar(
            select(Actual.id)
            .where(Actual.realm_id == self.realm_id, Actual.qbo_entity == entity)
            .limit(1)
        )
        if found is None:
            self.fresh.add(entity)

    def end_full_read(self, entity: str) -> None:
        """After the complete re-query of `entity`: look existing lines up again."""
        self.fresh.discard(entity)

    def replace(self, entity: str, records: Mapping[str, list[dict[str, Any]]]) -> None:
        """Make the stored lines of each record (`qbo_id -> new rows`) exactly the given rows.

        A record mapped to no rows (deleted, voided, or with no cost line) loses all its lines.
        """
        if not records:
            return
        existing = {} if entity in self.fresh else self._existing(entity, list(records))
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        deletes: list[int] = []
        for qbo_id, rows in records.items():
            old = existing.get(qbo_id, {})
            for row in rows:
                before = old.pop(row["qbo_line_id"], None)
                if before is None:
                    inserts.append(row)
                    self.tally.note("add", row, None)
                else:
                    differs = {c for c in COMPARED if before[c] != row[c]}
                    if differs:
                        updates.append({**row, "id": before["id"]})
                    if differs - LINEAGE_ONLY:
                        self.tally.note("change", row, before)
                    else:
                        self.tally.unchanged += 1
                if row["project_id"] is not None and row["excluded_reason"] is not None:
                    self.tally.left_out[row["excluded_reason"]] += 1
            for before in old.values():
                deletes.append(before["id"])
                self.tally.note("remove", {**before, "qbo_entity": entity}, before)
        if self.dry_run:
            return
        table = cast(Table, Actual.__table__)
        conn = self.session.connection()
        if deletes:
            conn.execute(delete(table).where(table.c.id.in_(deletes)))
        if updates:
            # A changed line takes the lineage of the pull that changed it: its run, the QBO
            # record's update time and now (one executemany, no per-row query).
            now = utcnow()
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values({c: bindparam(c) for c in (*COMPARED, *LINEAGE)}),
                [
                    {
                        **{c: row[c] for c in COMPARED},
                        "qbo_updated_at": row["qbo_updated_at"],
                        "sync_run_id": row["sync_run_id"],
                        "pulled_at": now,
                        "row_id": row["id"],
                    }
                    for row in updates
                ],
            )
        if len(inserts) >= COPY_FROM and conn.dialect.name == "postgresql":
            _copy_rows(conn, table, inserts)
        elif inserts:
            conn.execute(insert(table), inserts)

    def remove_missing(self, entity: str, seen: set[str], since: dt.date | None) -> None:
        """Remove the lines of records a complete re-query no longer returned (deleted in QBO)."""
        query = select(Actual.qbo_id).where(
            Actual.realm_id == self.realm_id, Actual.qbo_entity == entity
        )
        if since is not None:
            query = query.where(Actual.txn_date >= since)
        gone = sorted(set(self.session.scalars(query.distinct())) - seen)
        for start in range(0, len(gone), 1000):
            self.replace(entity, {qbo_id: [] for qbo_id in gone[start : start + 1000]})

    def _existing(self, entity: str, ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        columns = [
            Actual.id,
            Actual.qbo_id,
            Actual.qbo_line_id,
            *(getattr(Actual, c) for c in COMPARED),
        ]
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for start in range(0, len(ids), 1000):
            rows = self.session.execute(
                select(*columns).where(
                    Actual.realm_id == self.realm_id,
                    Actual.qbo_entity == entity,
                    Actual.qbo_id.in_(ids[start : start + 1000]),
                )
            ).mappings()
            for row in rows:
                found.setdefault(row["qbo_id"], {})[row["qbo_line_id"]] = dict(row)
        return found


def _copy_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many new lines with PostgreSQL's COPY (a first sync of a large realm).

    Values go as text in COPY's own format, so they take the exact column types: money and
    rates as decimal text, JSON as JSON text, timestamps with their offset.
    """
    plain = [c for c in rows[0] if c in table.c and c not in JSON_COLUMNS]
    columns = [*plain, *JSON_COLUMNS, "pulled_at"]
    now = utcnow()
    driver = conn.connection.driver_connection
    assert driver is not None
    names = ", ".join(f'"{c}"' for c in columns)
    dumps = json.dumps
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([*(row[c] for c in plain), *(dumps(row[c]) for c in JSON_COLUMNS), now])


def _change(action: str, row: Mapping[str, Any], before: Mapping[str, Any] | None) -> LineChange:
    return LineChange(
        action=action,
        entity=str(row.get("qbo_entity", "")),
        qbo_id=str(row["qbo_id"]),
        line_id=str(row["qbo_line_id"]),
        project_id=row["project_id"],
        actual_type=str(row["actual_type"]),
        amount=row["amount"],
        old_amount=None if before is None or action == "remove" else before["amount"],
        counts=row["project_id"] is not None and row["excluded_reason"] is None,
    )
