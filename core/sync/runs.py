"""A pull's bookkeeping: what it did, the records it could not bring in, and its `SyncRun` row.

The engine (`core.sync.engine`) fills a `PullReport` as it reads and writes; `close_run` puts the
report's state, words for the admin and counts on the run, once, at the end.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy.orm import Session

from core import metrics
from core.contracts import RecordProblem
from core.db import utcnow
from core.models import Company
from core.models import RunState
from core.models import SyncRun
from core.sync.store import WriteTally

#: How the run's message names failed records (the rest are in its explanation).
NAMED = 5
#: What to do about a record that failed to map (a plugin's own error may say better).
REREAD_FIX = (
    "Nothing needs changing in QuickBooks: costbridge reads it again on every sync until it comes "
    "in. If it keeps failing, show this run to support."
)
REREAD_FIX_MANY = (
    "Nothing needs changing in QuickBooks: costbridge reads them again on every sync until they "
    "come in. If they keep failing, show this run to support."
)


@dataclass(frozen=True)
class FailedRecord(RecordProblem):
    """A pulled record that could not be mapped to lines: named for the admin, kept for support.

    Attributes:
        doc_number: The record's DocNumber in QBO (the bill or cheque number), when it has one.
        detail: The error as support needs it (type and text, secrets masked).
        updated_at: The record's LastUpdatedTime; its entity's cursor stops just before it.
    """

    doc_number: str | None = None
    detail: str = ""
    updated_at: dt.datetime | None = None

    def words(self) -> str:
        """How a message names it: `bill 145 (no. 1001)`."""
        return record_words(self.entity, self.id, self.doc_number)

    def as_json(self) -> dict[str, Any]:
        """JSON-safe."""
        return {
            "entity": self.entity,
            "id": self.id,
            "doc_number": self.doc_number,
            "message": self.message,
            "fix": self.fix,
            "detail": self.detail,
        }


def record_words(entity: str, qbo_id: str, doc_number: str | None = None) -> str:
    """A QBO record as an admin would look it up: `bill 145 (no. 1001)`, `vendor credit 7`."""
    what = f"{entity_words(entity)} {qbo_id}"
    return f"{what} (no. {doc_number})" if doc_number else what


def entity_words(entity: str) -> str:
    """A QBO entity name in lower-case words (`VendorCredit` -> `vendor credit`)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", entity).lower()


@dataclass
class PullReport:
    """What a pull did (or, in a dry run, would do)."""

    company_id: int
    realm_id: str | None
    run_id: int | None
    state: RunState
    dry_run: bool = False
    records: int = 0
    deleted_records: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    tally: WriteTally = field(default_factory=WriteTally)
    problems: list[FailedRecord] = field(default_factory=list)
    invoices_updated: int = 0
    closed_period: list[str] = field(default_factory=list)
    message: str = ""
    fix: str = ""

    @property
    def applied(self) -> int:
        """Records read and applied (mapped, or removed as deleted or voided)."""
        return self.records - len(self.problems)

    def counts(self) -> dict[str, Any]:
        """The run's counts (JSON-safe)."""
        return {
            "records": self.records,
            "deleted_records": self.deleted_records,
            "added": self.tally.added,
            "changed": self.tally.changed,
            "removed": self.tally.removed,
            "unchanged": self.tally.unchanged,
            "left_out": dict(self.tally.left_out),
            "problems": len(self.problems),
            "requests": dict(self.requests),
            "modes": dict(self.modes),
            "invoices_updated": self.invoices_updated,
            "closed_period_changes": len(self.closed_period),
        }

    def as_json(self, project_id: int | None = None, changes: bool = True) -> dict[str, Any]:
        """The report as JSON (a project's line changes only, when `project_id` is given)."""
        body: dict[str, Any] = {
            "company_id": self.company_id,
            "realm_id": self.realm_id,
            "run_id": self.run_id,
            "state": self.state.value,
            "dry_run": self.dry_run,
            "message": self.message,
            "fix": self.fix,
            "counts": self.counts(),
            "problems": [p.as_json() for p in self.problems],
        }
        if changes:
            body["changes"] = [
                c.as_json()
                for c in self.tally.changes
                if project_id is None or c.project_id == project_id
            ]
        return body


def open_run(
    session: Session,
    company: Company,
    project_id: int | None,
    trigger: str,
    run_id: int | None,
) -> SyncRun:
    run = session.get(SyncRun, run_id) if run_id is not None else None
    if run is None:
        run = SyncRun(company_id=company.id, project_id=project_id, kind="pull", trigger=trigger)
        session.add(run)
    run.state = RunState.RUNNING
    run.started_at = utcnow()
    run.attempts = (run.attempts or 0) + 1
    session.commit()
    return run


def close_run(
    session: Session,
    run: SyncRun | None,
    report: PullReport,
    state: RunState,
    message: str,
    fix: str,
) -> PullReport:
    report.state, report.message, report.fix = state, message, fix
    if run is not None:
        run = session.merge(run)
        run.state = state
        run.finished_at = utcnow()
        run.message = message
        run.fix = fix or None
        run.counts = report.counts()
        run.detail = _explain(report) or None
        session.commit()
        metrics.sync_run_finished(run.kind, state)
    return report


def summary(report: PullReport) -> str:
    t = report.tally
    words = (
        f"Pulled {report.records} record(s): {t.added} line(s) added, {t.changed} changed, "
        f"{t.removed} removed, {t.unchanged} unchanged."
    )
    if t.left_out:
        words += f" {sum(t.left_out.values())} line(s) of linked projects left out by settings."
    return words


def failures(report: PullReport) -> tuple[RunState, str, str]:
    """The state, message and fix of a pull with records that failed to map.

    `partial` when it applied anything else (deleted records included), `failed` when it
    could apply nothing it read.
    """
    failed = report.problems
    named = ", ".join(p.words() for p in failed[:NAMED])
    if len(failed) > NAMED:
        named += f" and {len(failed) - NAMED} more (listed below)"
    fixes = {p.fix for p in failed}
    if len(failed) > 1 and fixes == {REREAD_FIX}:
        fix = REREAD_FIX_MANY
    elif len(fixes) == 1:
        fix = failed[0].fix
    else:
        fix = "Each record is listed below with what to do; the next sync reads them all again."
    if report.applied == 0:
        message = (
            f"None of the {report.records} record(s) read from QuickBooks could be brought in, "
            f"so their costs are missing: {named}."
        )
        return RunState.FAILED, message, fix
    message = (
        f"{summary(report)} {len(failed)} record(s) could not be brought in, so their costs are "
        f"missing: {named}."
    )
    return RunState.PARTIAL, message, fix


def _explain(report: PullReport, limit: int = 200) -> str:
    """Every record that failed (with support's detail) and every reason a line was left out."""
    parts = [f"{p.message} [{p.detail}]" for p in report.problems[:limit]]
    if len(report.problems) > limit:
        parts.append(f"… and {len(report.problems) - limit} more record(s) not brought in.")
    parts += [f"{n} line(s): {reason}" for reason, n in report.tally.left_out.most_common()]
    if report.closed_period:
        parts.append(
            f"{len(report.closed_period)} record(s) changed in QuickBooks are dated in a closed "
            "period (on or before the books' close date): "
            + ", ".join(report.closed_period[:limit])
        )
    return "\n".join(parts)
