"""Applying pulled records: each through the plugin owning its entity, then into the ledger.

A page of one entity's records is mapped to candidate lines by its owner's `actual_lines` (pure)
and written in the open transaction (`core.sync.store`), a record's lines replacing its old ones
as a whole. A deleted or voided record reaches no plugin: its lines are removed. A record whose
mapper raises is named on the report and its old lines stay; its entity's cursor is held just
before it (`held`) so the next pull reads it again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from core.contracts import Lookups
from core.contracts import QboRecord
from core.crypto import scrub
from core.errors import CostbridgeError
from core.plugins import PluginManager
from core.plugins import direct_impl
from core.sync.lookups import PRICED_BY_WORKER
from core.sync.lookups import RateBook
from core.sync.runs import REREAD_FIX
from core.sync.runs import FailedRecord
from core.sync.runs import PullReport
from core.sync.runs import record_words
from core.sync.store import LineWriter
from core.sync.store import Router
from core.sync.store import line_values

log = logging.getLogger(__name__)
Progress = Callable[[int], None]


def pulled_entities(pm: PluginManager) -> dict[str, str]:
    """Every QBO entity some installed plugin maps to actuals, with that plugin's name.

    This is what a pull reads (by query and by CDC): the entities in the `owns` of the plugins
    implementing `actual_lines`. A new plugin's entity is pulled with no change here.
    """
    mappers = {pm.get_name(i.plugin) for i in pm.hook.actual_lines.get_hookimpls()}
    return {
        entity: name
        for name, info in sorted(pm.infos.items())
        if name in mappers
        for entity in info.owns
    }


def is_gone(row: Mapping[str, Any]) -> bool:
    """Whether a pulled row is a deleted stub or a voided transaction (it has no actuals)."""
    if row.get("status") in ("Deleted", "Voided"):
        return True
    note = str(row.get("PrivateNote") or "")
    return note.startswith("Voided") and str(row.get("TotalAmt", "")) in ("0", "0.0", "0.00")


def updated_at(row: Mapping[str, Any]) -> dt.datetime | None:
    """A pulled row's `MetaData.LastUpdatedTime`, in UTC; None when absent or unreadable."""
    raw = (row.get("MetaData") or {}).get("LastUpdatedTime")
    if not isinstance(raw, str):
        return None
    try:
        return dt.datetime.fromisoformat(raw).astimezone(dt.UTC)
    except ValueError:
        return None


class RecordApplier:
    """Maps and writes the pages of one pull, remembering the records that failed to map."""

    def __init__(
        self,
        pm: PluginManager,
        realm_id: str,
        report: PullReport,
        run_id: int | None,
        router: Router,
        writer: LineWriter,
        lookups: Lookups,
        rates: RateBook,
        progress: Progress | None = None,
    ) -> None:
        """Set up the owners' mappers once (hot loop: no per-record hook dispatch)."""
        self.realm_id = realm_id
        self.report = report
        self.run_id = run_id
        self.router = router
        self.writer = writer
        self.lookups = lookups
        self.rates = rates
        self.progress = progress
        self.owners = pulled_entities(pm)
        self.mappers = {p: direct_impl(pm, p, "actual_lines") for p in set(self.owners.values())}
        self.labels = {name: info.label for name, info in pm.infos.items()}
        #: Per entity with a record that failed to map: the earliest such record's
        #: LastUpdatedTime, or None when one had none (then the cursor does not move at all).
        self.held: dict[str, dt.datetime | None] = {}

    def apply(self, entity: str, rows: list[dict[str, Any]]) -> None:
        """Map and write one page of records of one entity, in the open transaction."""
        if not rows:
            return
        plugin = self.owners[entity]
        if entity in PRICED_BY_WORKER:
            self.rates.prefetch([r for r in rows if not is_gone(r)])
        replacement: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            record = QboRecord(entity, row)
            self.report.records += 1
            if is_gone(row):
                self.report.deleted_records += 1
                replacement[record.id] = []
                continue
            updated = updated_at(row)
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
