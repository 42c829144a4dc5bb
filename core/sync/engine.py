"""One pull per realm: query or CDC, map through the owning plugins, write, advance cursors.

`pull_company` is the one way in: the CLI, the admin's "Sync Expenses", the webhook job and the
benchmarks all call it. A first sync (or a cursor past CDC's 30-day window, or a `since` date)
pages queries at 1000 rows per entity; later syncs make one CDC call over every pulled entity.
A record that fails to map is named on the run (which ends `partial`, or `failed` when no record
could be applied) and the others go on. Cursors advance only after everything the pull read has
been committed, to the moment the pull started (less a small overlap, which is harmless because
applying a record twice changes nothing); an entity with a record that failed to map stops just
before that record's LastUpdatedTime instead, so the next pull (CDC, or a query when that is more
than CDC's window ago) reads it again until it maps.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import metrics
from core.contracts import QboRecord
from core.contracts import RecordProblem
from core.crypto import scrub
from core.db import utcnow
from core.errors import CostbridgeError
from core.errors import NeedsAdmin
from core.models import Company
from core.models import ConnectionStatus
from core.models import RunState
from core.models import SyncCursor
from core.models import SyncRun
from core.plugins import PluginManager
from core.plugins import direct_impl
from core.push.invoice_status import apply_rows
from core.push.invoice_status import pushed_invoices
from core.push.invoice_status import refresh_invoice_status
from core.qbo import queries
from core.qbo.book_close import BookClose
from core.runtime import Runtime
from core.sync.realm import realm_lookups
from core.sync.realm import realm_pull_lock
from core.sync.store import LineWriter
from core.sync.store import Router
from core.sync.store import WriteTally
from core.sync.store import line_values

#: CDC answers for at most 30 days back (API.md §5); past this margin a full re-query is safer.
CDC_WINDOW = dt.timedelta(days=29)
#: Cursors go back this far from the pull's start, so a change committed during it is seen.
OVERLAP = dt.timedelta(minutes=2)
#: A cursor held back for a record that failed to map stops this far before its LastUpdatedTime
#: (QBO gives whole seconds; CDC answers changes at or after `changedSince`).
REREAD = dt.timedelta(seconds=1)
PAGE = queries.MAX_RESULTS
#: How the run's message names failed records (the rest are in its explanation).
NAMED = 5
log = logging.getLogger(__name__)
Progress = Callable[[int], None]
#: QBO entities as the people who enter them call them.
ENTITY_WORDS = {
    "Bill": "bill",
    "Purchase": "expense",
    "TimeActivity": "time entry",
    "VendorCredit": "vendor credit",
    "Invoice": "invoice",
}
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
    """A QBO record as an admin would look it up: `bill 145 (no. 1001)`."""
    what = f"{ENTITY_WORDS.get(entity, entity)} {qbo_id}"
    return f"{what} (no. {doc_number})" if doc_number else what


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


def pulled_entities(pm: PluginManager) -> dict[str, str]:
    """Every QBO entity some installed plugin maps to actuals, with that plugin's name."""
    mappers = {pm.get_name(i.plugin) for i in pm.hook.actual_lines.get_hookimpls()}
    return {
        entity: name
        for name, info in sorted(pm.infos.items())
        if name in mappers
        for entity in info.owns
    }


def pull_company(
    rt: Runtime,
    company_id: int,
    *,
    since: dt.date | None = None,
    dry_run: bool = False,
    trigger: str = "manual",
    project_id: int | None = None,
    run_id: int | None = None,
    progress: Progress | None = None,
    client: Any = None,
) -> PullReport:
    """Pull the changes of a company's QBO realm into actuals.

    Args:
        rt: The runtime (database, Redis, plugins, settings).
        company_id: The company whose realm is pulled.
        since: Re-query every record dated on or after this day (backfill), whatever the cursor.
        dry_run: Work out what would be added, changed and removed; write nothing.
        trigger: What started it (`manual`, `webhook`, `schedule`), for the sync log.
        project_id: The project the pull was asked for (recorded on the run).
        run_id: An existing queued `SyncRun` to record on (jobs); else one is created.
        progress: Called with the number of records read so far.
        client: A QBO client to use instead of the runtime's (benchmarks count requests).

    Returns:
        The report; the `SyncRun` holds the same counts (none is written for a dry run).
    """
    with realm_pull_lock(rt.engine, company_id, wait=not dry_run), rt.sessions() as session:
        started = utcnow()
        company = session.get(Company, company_id)
        if company is None:
            raise CostbridgeError(
                f"There is no company {company_id}.", fix="Run `costbridge companies list`."
            )
        report = PullReport(company_id, company.realm_id, None, RunState.RUNNING, dry_run=dry_run)
        run = None if dry_run else _open_run(session, company, project_id, trigger, run_id)
        report.run_id = run.id if run else None
        if company.connection_status != ConnectionStatus.CONNECTED or not company.realm_id:
            return _close(
                session,
                run,
                report,
                RunState.NEEDS_ADMIN,
                f"{company.name} is not connected to QuickBooks "
                f"({company.connection_status.value.replace('_', ' ')}).",
                "Open the company page and choose Connect to QuickBooks (or Reconnect).",
            )
        try:
            if client is None:
                from core.qbo import client_for

                client = client_for(rt, company.realm_id)
            _Pull(
                rt.pm, session, company, client, report, run, since, dry_run, progress, _redis(rt)
            ).run(started)
        except NeedsAdmin as exc:
            session.rollback()
            return _close(session, run, report, RunState.NEEDS_ADMIN, exc.message, exc.fix)
        except CostbridgeError as exc:
            session.rollback()
            return _close(session, run, report, RunState.FAILED, exc.message, exc.fix)
        except Exception as exc:
            # A bug or a lost database: the run says so, then the job's own failure handling
            # (and support's retry) takes over. Cursors did not move, so nothing is skipped.
            try:
                session.rollback()
                _close(
                    session,
                    run,
                    report,
                    RunState.FAILED,
                    f"The pull stopped unexpectedly ({type(exc).__name__}).",
                    "It is safe to run it again; if it keeps failing, show this run to support.",
                )
            except Exception:  # noqa: BLE001 - the original error is what matters
                log.exception("could not record the failed pull of company %s", company_id)
            raise
        if report.problems:
            return _close(session, run, report, *_failures(report))
        return _close(session, run, report, RunState.SUCCEEDED, _summary(report), "")


class _Pull:
    """One pull's state: the plan, lookups, router and writer over one session."""

    def __init__(
        self,
        pm: PluginManager,
        session: Session,
        company: Company,
        client: Any,
        report: PullReport,
        run: SyncRun | None,
        since: dt.date | None,
        dry_run: bool,
        progress: Progress | None,
        redis: Any = None,
    ) -> None:
        self.pm = pm
        self.session = session
        self.company = company
        self.realm_id = str(company.realm_id)
        self.client = client
        self.report = report
        self.run_id = run.id if run else None
        self.since = since
        self.dry_run = dry_run
        self.progress = progress
        self.owners = pulled_entities(pm)
        self.mappers = {p: direct_impl(pm, p, "actual_lines") for p in set(self.owners.values())}
        self.router = Router.for_company(session, pm, company.id)
        self.writer = LineWriter(session, self.realm_id, report.tally, dry_run=dry_run)
        self.lookups, self.rates = realm_lookups(session, company, client)
        self.invoices: dict[str, int] = {}
        self.closing = BookClose(client, self.realm_id, redis)
        self.labels = {name: info.label for name, info in pm.infos.items()}
        #: Per entity with a record that failed to map: the earliest such record's
        #: LastUpdatedTime, or None when one had none (then the cursor does not move at all).
        self.held: dict[str, dt.datetime | None] = {}

    def run(self, started: dt.datetime) -> None:
        cursors = {
            c.entity: c
            for c in self.session.scalars(
                select(SyncCursor).where(SyncCursor.realm_id == self.realm_id)
            )
        }
        full: list[str] = []
        incremental: list[str] = []
        for entity in self.owners:
            cursor = cursors.get(entity)
            fresh = (
                cursor is not None
                and cursor.full_sync_done
                and cursor.position is not None
                and cursor.position > started - CDC_WINDOW
            )
            (incremental if fresh and self.since is None else full).append(entity)
        self.invoices = pushed_invoices(self.session, self.realm_id)
        for entity in full:
            self.report.modes[entity] = "query" if self.since is None else f"since {self.since}"
            self._query(entity)
        if full and self.invoices:
            self.report.invoices_updated += refresh_invoice_status(
                self.session, self.client, self.realm_id
            )
            self._count_request("Invoice")
        if full and self.since is None:
            self.closing.prime()
        if incremental:
            since = min(_position(cursors[e]) for e in incremental)
            for entity in incremental:
                self.report.modes[entity] = "cdc"
            self._cdc(incremental + (["Invoice"] if self.invoices and not full else []), since)
        if self.dry_run:
            self.session.rollback()
            return
        if self.since is not None:
            # A backfill read only part of history: the cursors keep what they knew, except that
            # one goes back (never forward) to read again a record that failed to map, or asks
            # for a full re-query when that record had no LastUpdatedTime.
            for entity, first in self.held.items():
                cursor = cursors.get(entity)
                if cursor is None or cursor.position is None:
                    continue  # no sync yet: the next pull is a full one anyway
                if first is None:
                    cursor.full_sync_done = False
                else:
                    cursor.position = min(cursor.position, first - REREAD)
            self.session.commit()
            return
        position = started - OVERLAP
        for entity in self.owners:
            cursor = cursors.get(entity) or SyncCursor(realm_id=self.realm_id, entity=entity)
            cursor.position = self._next_position(entity, cursor.position, position)
            cursor.full_sync_done = True
            self.session.add(cursor)
        self.session.commit()

    def _next_position(
        self, entity: str, before: dt.datetime | None, position: dt.datetime
    ) -> dt.datetime | None:
        """Where the entity's next pull starts: `position`, unless a record failed to map.

        Then it starts just before the earliest such record's LastUpdatedTime, so the next CDC
        call returns it again (or, that being past CDC's window, the next pull queries the whole
        entity again). A failed record without a LastUpdatedTime leaves the cursor where it was:
        the next pull reads this pull's window again, and a first sync stays a first sync.
        """
        if entity not in self.held:
            return position
        first = self.held[entity]
        if first is None:
            return before
        return min(position, first - REREAD)

    def _query(self, entity: str) -> None:
        """Read every record (dated from `since`) page by page; the next page is fetched while
        this one is written."""
        conditions = [queries.ge("TxnDate", self.since)] if self.since else []
        seen: set[str] = set()
        self.writer.start_full_read(entity)

        def fetch(start: int) -> list[dict[str, Any]]:
            statement = queries.select(
                entity, *conditions, order_by="Id", start_position=start, max_results=PAGE
            )
            rows: list[dict[str, Any]] = self.client.query(statement).get(entity, []) or []
            return rows

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qbo-page") as pool:
            start = 1
            pending: Future[list[dict[str, Any]]] | None = pool.submit(fetch, start)
            while pending is not None:
                page = pending.result()
                self._count_request(entity)
                start += PAGE
                pending = pool.submit(fetch, start) if len(page) == PAGE else None
                seen.update(str(row.get("Id")) for row in page)
                self._apply(entity, page)
        self.writer.end_full_read(entity)
        self.writer.remove_missing(entity, seen, self.since)
        self._commit()

    def _cdc(self, entities: list[str], since: dt.datetime) -> None:
        result = self.client.cdc(entities, since)
        self.report.requests["cdc"] = self.report.requests.get("cdc", 0) + 1
        for entity in entities:
            rows = result.changes.get(entity, [])
            if entity not in self.owners:  # pushed invoices: their paid status comes from QBO
                self.report.invoices_updated += apply_rows(self.session, self.invoices, rows)
                continue
            self._flag_closed_period(entity, rows)
            for start in range(0, len(rows), PAGE):
                self._apply(entity, rows[start : start + PAGE])
        self._commit()

    def _flag_closed_period(self, entity: str, rows: list[dict[str, Any]]) -> None:
        """Note changed records dated in a month QBO's books have closed (on the run)."""
        live = [r for r in rows if not _gone(r) and r.get("TxnDate")]
        if not live:
            return
        closed = self.closing.date()
        if closed is None:
            return
        for row in live:
            if dt.date.fromisoformat(str(row["TxnDate"])[:10]) <= closed:
                self.report.closed_period.append(f"{entity} {row.get('Id')}")

    def _count_request(self, entity: str) -> None:
        self.report.requests[entity] = self.report.requests.get(entity, 0) + 1

    def _apply(self, entity: str, rows: list[dict[str, Any]]) -> None:
        """Map and write one page of records of one entity, in the open transaction."""
        if not rows:
            return
        plugin = self.owners[entity]
        live = [r for r in rows if not _gone(r)]
        if entity == "TimeActivity":
            self.rates.prefetch(live)
        replacement: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            record = QboRecord(entity, row)
            self.report.records += 1
            if _gone(row):
                self.report.deleted_records += 1
                replacement[record.id] = []
                continue
            updated = _updated_at(row)
            try:
                lines = self.mappers[plugin](record=record, lookups=self.lookups)
                replacement[record.id] = [
                    line_values(
                        self.realm_id,
                        entity,
                        record.id,
                        record.sync_token,
                        updated,
                        plugin,
                        line,
                        self.router,
                        self.run_id,
                    )
                    for line in lines or ()
                ]
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the pull
                self._failed(plugin, record, updated, exc)
        self.writer.replace(entity, replacement)
        if self.progress:
            self.progress(self.report.records)

    def _failed(
        self, plugin: str, record: QboRecord, updated: dt.datetime | None, exc: Exception
    ) -> None:
        """Name a record that failed to map on the report, and hold its entity's cursor.

        Its stored lines (from before it changed, if any) are left as they are.
        """
        label = self.labels.get(plugin, plugin)
        doc = record.data.get("DocNumber")
        doc_number = str(doc) if doc not in (None, "") else None
        if isinstance(exc, CostbridgeError):
            # A plugin that knows what is wrong says so in an admin's words.
            reason, fix = exc.message, exc.fix or REREAD_FIX
        else:
            reason, fix = f"the {label} plugin could not read it.", REREAD_FIX
        what = record_words(record.entity, record.id, doc_number)
        self.report.problems.append(
            FailedRecord(
                record.entity,
                record.id,
                f"QuickBooks {what} was not brought in: {reason}",
                fix,
                doc_number=doc_number,
                detail=scrub(f"{plugin}: {type(exc).__name__}: {exc}")[:1000],
                updated_at=updated,
            )
        )
        entity = record.entity
        if entity not in self.held:
            self.held[entity] = updated
        else:
            earlier = self.held[entity]
            if earlier is None or updated is None:
                self.held[entity] = None
            else:
                self.held[entity] = min(earlier, updated)
        log.warning(
            "pull of realm %s: %s %s not applied (the %s plugin raised %s); read again next pull",
            self.realm_id,
            record.entity,
            record.id,
            plugin,
            type(exc).__name__,
            exc_info=len(self.report.problems) == 1,
        )

    def _commit(self) -> None:
        if not self.dry_run:
            self.session.commit()


def is_gone(row: Mapping[str, Any]) -> bool:
    """Whether a pulled row is a deleted stub or a voided transaction (it has no actuals)."""
    return _gone(row)


def _redis(rt: Runtime) -> Any:
    try:
        return rt.redis
    except Exception as exc:  # noqa: BLE001 - the pull works without the cache
        log.warning(
            "pull without the book-close cache: no Redis client (%s); QuickBooks is asked instead",
            type(exc).__name__,
        )
        return None


def _position(cursor: SyncCursor) -> dt.datetime:
    assert cursor.position is not None  # only cursors with a position are incremental
    return cursor.position


def _gone(row: Mapping[str, Any]) -> bool:
    """A deleted stub, or a voided transaction (its actuals are removed)."""
    if row.get("status") in ("Deleted", "Voided"):
        return True
    note = str(row.get("PrivateNote") or "")
    return note.startswith("Voided") and str(row.get("TotalAmt", "")) in ("0", "0.0", "0.00")


def _updated_at(row: Mapping[str, Any]) -> dt.datetime | None:
    raw = (row.get("MetaData") or {}).get("LastUpdatedTime")
    if not isinstance(raw, str):
        return None
    try:
        return dt.datetime.fromisoformat(raw).astimezone(dt.UTC)
    except ValueError:
        return None


def _open_run(
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


def _close(
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


def _summary(report: PullReport) -> str:
    t = report.tally
    words = (
        f"Pulled {report.records} record(s): {t.added} line(s) added, {t.changed} changed, "
        f"{t.removed} removed, {t.unchanged} unchanged."
    )
    if t.left_out:
        words += f" {sum(t.left_out.values())} line(s) of linked projects left out by settings."
    return words


def _failures(report: PullReport) -> tuple[RunState, str, str]:
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
        f"{_summary(report)} {len(failed)} record(s) could not be brought in, so their costs are "
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


def entity_plugins(pm: PluginManager) -> Iterable[str]:
    """The plugin names that map pulled records (for the doctor and the console)."""
    return sorted(set(pulled_entities(pm).values()))
