"""One pull per realm: query or CDC, map through the owning plugins, write, advance cursors.

`pull_company` is the one way in: the CLI, the admin's "Sync Expenses", the webhook job and the
benchmarks all call it. A first sync (or a cursor past CDC's 30-day window, or a `since` date)
pages queries at 1000 rows per entity; later syncs make one CDC call over every pulled entity.
Which entities are pulled comes from the plugins: those their `plugin_info` owns and their
`actual_lines` maps (`core.sync.records`), plus the records of invoices costbridge sent, whose
paid status the owning plugin reads (`core.sync.invoices`). A record that fails to map is named
on the run (which ends `partial`, or `failed` when no record could be applied) and the others go
on (`core.sync.runs`). Cursors advance only after everything the pull read has been committed, to
the moment the pull started (less a small overlap, which is harmless because applying a record
twice changes nothing); an entity with a record that failed to map stops just before that
record's LastUpdatedTime instead, so the next pull (CDC, or a query when that is more than CDC's
window ago) reads it again until it maps.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import CostbridgeError
from core.errors import NeedsAdmin
from core.models import Company
from core.models import ConnectionStatus
from core.models import RunState
from core.models import SyncCursor
from core.models import SyncRun
from core.plugins import PluginManager
from core.qbo import queries
from core.qbo import queryable
from core.qbo.book_close import BookClose
from core.runtime import Runtime
from core.sync.invoices import InvoicePayments
from core.sync.realm import realm_lookups
from core.sync.realm import realm_pull_lock
from core.sync.records import Progress
from core.sync.records import RecordApplier
from core.sync.records import is_gone
from core.sync.records import pulled_entities
from core.sync.runs import FailedRecord
from core.sync.runs import PullReport
from core.sync.runs import close_run
from core.sync.runs import failures
from core.sync.runs import open_run
from core.sync.runs import summary
from core.sync.store import LineWriter
from core.sync.store import Router

__all__ = ["FailedRecord", "PullReport", "is_gone", "pull_company", "pulled_entities"]

#: CDC answers for at most 30 days back (API.md §5); past this margin a full re-query is safer.
CDC_WINDOW = dt.timedelta(days=29)
#: Cursors go back this far from the pull's start, so a change committed during it is seen.
OVERLAP = dt.timedelta(minutes=2)
#: A cursor held back for a record that failed to map stops this far before its LastUpdatedTime
#: (QBO gives whole seconds; CDC answers changes at or after `changedSince`).
REREAD = dt.timedelta(seconds=1)
PAGE = queries.MAX_RESULTS
log = logging.getLogger(__name__)


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
        run = None if dry_run else open_run(session, company, project_id, trigger, run_id)
        report.run_id = run.id if run else None
        if company.connection_status != ConnectionStatus.CONNECTED or not company.realm_id:
            return close_run(
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
            return close_run(session, run, report, RunState.NEEDS_ADMIN, exc.message, exc.fix)
        except CostbridgeError as exc:
            session.rollback()
            return close_run(session, run, report, RunState.FAILED, exc.message, exc.fix)
        except Exception as exc:
            # A bug or a lost database: the run says so, then the job's own failure handling
            # (and support's retry) takes over. Cursors did not move, so nothing is skipped.
            try:
                session.rollback()
                close_run(
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
            return close_run(session, run, report, *failures(report))
        return close_run(session, run, report, RunState.SUCCEEDED, summary(report), "")


class _Pull:
    """One pull's state: the plan, cursors and client over one session."""

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
        self.realm_id = str(company.realm_id)
        self.client = client
        self.report = report
        self.since = since
        self.dry_run = dry_run
        lookups, rates = realm_lookups(session, company, client)
        self.records = RecordApplier(
            pm,
            self.realm_id,
            report,
            run.id if run else None,
            Router.for_company(session, pm, company.id),
            LineWriter(session, self.realm_id, report.tally, dry_run=dry_run),
            lookups,
            rates,
            progress,
        )
        self.owners = self.records.owners
        self.writer = self.records.writer
        self.held = self.records.held
        self.payments = InvoicePayments(pm, {})
        self.closing = BookClose(client, self.realm_id, redis)

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
        self.payments = InvoicePayments.for_realm(self.session, self.pm, self.realm_id)
        for entity in full:
            self.report.modes[entity] = "query" if self.since is None else f"since {self.since}"
            self._query(entity)
        if full and self.payments.entities:
            self.report.invoices_updated += self.payments.refresh(
                self.session, self.client, self._count_request
            )
        if full and self.since is None:
            self.closing.prime()
        if incremental:
            since = min(_position(cursors[e]) for e in incremental)
            for entity in incremental:
                self.report.modes[entity] = "cdc"
            # After a full read the sent invoices were just read by id; else CDC brings them.
            extra = [] if full else [e for e in self.payments.entities if e not in incremental]
            self._cdc(incremental + extra, since)
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
        this one is written.

        An entity QBO does not let a query filter by TxnDate (one the core knows nothing of) is
        read whole for a backfill: applying a record again changes nothing.
        """
        since = self.since if queryable.can_filter(entity, "TxnDate") else None
        conditions = [queries.ge("TxnDate", since)] if since is not None else []
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
                self.records.apply(entity, page)
        self.writer.end_full_read(entity)
        self.writer.remove_missing(entity, seen, since)
        self._commit()

    def _cdc(self, entities: list[str], since: dt.datetime) -> None:
        result = self.client.cdc(entities, since)
        self.report.requests["cdc"] = self.report.requests.get("cdc", 0) + 1
        for entity in entities:
            rows = result.changes.get(entity, [])
            if entity in self.payments.entities:
                self.report.invoices_updated += self.payments.apply(self.session, entity, rows)
            if entity not in self.owners:
                continue
            self._flag_closed_period(entity, rows)
            for start in range(0, len(rows), PAGE):
                self.records.apply(entity, rows[start : start + PAGE])
        self._commit()

    def _flag_closed_period(self, entity: str, rows: list[dict[str, Any]]) -> None:
        """Note changed records dated in a month QBO's books have closed (on the run)."""
        live = [r for r in rows if not is_gone(r) and r.get("TxnDate")]
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

    def _commit(self) -> None:
        if not self.dry_run:
            self.session.commit()


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
