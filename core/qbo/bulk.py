"""Calls that move many records at once: query paging, change data capture and batch.

`BulkCalls` adds them to `QboTransport`; each is one or more `request`s, so they retry, wait
and refresh exactly like single-record calls (see `core.qbo.transport`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from core.qbo import queries
from core.qbo.errors import QboError
from core.qbo.errors import QboRejected
from core.qbo.errors import error_from_response
from core.qbo.errors import read_fault
from core.qbo.transport import QboTransport

MAX_BATCH_ITEMS = 30  # API.md §6
CDC_MAX_OBJECTS = 1000  # API.md §5: objects per CDC answer


@dataclass
class BatchResult:
    """One item's answer in a batch, found by its `bId`."""

    bid: str
    entity_name: str | None = None
    entity: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    error: QboError | None = None

    @property
    def ok(self) -> bool:
        """True when QBO did what the item asked."""
        return self.error is None


@dataclass
class CdcResult:
    """Changes per entity since a moment; deleted records appear as stubs (`status: Deleted`)."""

    changes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    time: str | None = None

    def deleted(self, entity: str) -> list[dict[str, Any]]:
        """The deleted stubs of one entity."""
        return [o for o in self.changes.get(entity, []) if o.get("status") == "Deleted"]


@dataclass
class _CdcPage:
    """One CDC answer: its lists and whether it was cut at the cap."""

    time: str | None
    changes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cut: bool = False


def _updated(row: Mapping[str, Any]) -> dt.datetime | None:
    meta = row.get("MetaData")
    text = meta.get("LastUpdatedTime") if isinstance(meta, Mapping) else None
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _latest_by_id(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per Id, the last-updated version (a deleted stub beats an older record)."""
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = str(row.get("Id"))
        kept = best.get(key)
        if kept is None:
            best[key] = row
            continue
        new, old = _updated(row), _updated(kept)
        if row.get("status") == "Deleted" or (new is not None and (old is None or new >= old)):
            best[key] = row
    return list(best.values())


class BulkCalls(QboTransport):
    """Query (one page, all pages, counts), CDC and batch for one realm."""

    def query(self, statement: str) -> dict[str, Any]:
        """Run one SELECT; returns the `QueryResponse` object (POSTed as application/text)."""
        body = self.request(
            "POST",
            "query",
            data=statement.encode("utf-8"),
            content_type="application/text",
            what="Querying QuickBooks",
        )
        response = body.get("QueryResponse", {}) if isinstance(body, Mapping) else {}
        return dict(response)

    def count(self, entity: str, *conditions: queries.Cond) -> int:
        """`SELECT COUNT(*)` with the conditions."""
        response = self.query(queries.select(entity, *conditions, count=True))
        return int(response.get("totalCount", 0))

    def query_all(
        self,
        entity: str,
        *conditions: queries.Cond,
        order_by: str = "Id",
        page_size: int = queries.MAX_RESULTS,
    ) -> Iterator[dict[str, Any]]:
        """Every matching row, paged `page_size` at a time (STARTPOSITION/MAXRESULTS, §4.3).

        Stops at the first page shorter than `page_size`.
        """
        start = 1
        while True:
            statement = queries.select(
                entity, *conditions, order_by=order_by, start_position=start, max_results=page_size
            )
            rows = self.query(statement).get(entity, [])
            yield from rows
            if len(rows) < page_size:
                return
            start += page_size

    def cdc(self, entities: Sequence[str], changed_since: dt.datetime) -> CdcResult:
        """Every change of several entity types since a moment, never a partial answer (§5).

        One CDC call answers at most 1000 objects, shared across the entities asked for. A cut
        answer holds the cap, or an entity whose `totalCount` exceeds its list; when it is cut,
        this splits the entity list into one call per entity, and walks a single entity's
        window forward (`changedSince` = the latest change seen, answers oldest first) until
        an answer is whole. Records met twice are kept once, the latest version winning.

        Args:
            entities: Entity names (`Bill`, `Purchase`, ...).
            changed_since: Aware datetime, at most 30 days ago.

        Returns:
            A list per requested entity (empty when nothing changed), deleted stubs included.

        Raises:
            QboRejected: More than 1000 changes of one entity share one second, so no window
                can be narrowed enough (never expected from QBO; better than losing changes).
        """
        if changed_since.tzinfo is None:
            raise ValueError("changed_since must be aware")
        names = list(dict.fromkeys(entities))
        page = self._cdc_call(names, changed_since)
        result = CdcResult(changes={name: [] for name in names}, time=page.time)
        if not page.cut:
            for name in names:
                result.changes[name] = _latest_by_id(page.changes.get(name, []))
            return result
        for name in names:
            result.changes[name] = self._cdc_entity(name, changed_since)
        return result

    def _cdc_entity(self, entity: str, changed_since: dt.datetime) -> list[dict[str, Any]]:
        """All changes of one entity: walk `changedSince` forward until an answer is whole."""
        found: list[dict[str, Any]] = []
        since = changed_since
        while True:
            page = self._cdc_call([entity], since)
            rows = page.changes.get(entity, [])
            found.extend(rows)
            if not page.cut:
                return _latest_by_id(found)
            times = [when for when in map(_updated, rows) if when is not None]
            latest = max(times, default=None)
            if latest is None or latest <= since:
                raise QboRejected(
                    f"QuickBooks reports more than {CDC_MAX_OBJECTS} changes of {entity} "
                    "within one second, so they cannot all be read through change capture.",
                    fix="Run a full resync of this company.",
                )
            # Inclusive: LastUpdatedTime has whole seconds, later changes of that second
            # come again and are de-duplicated.
            since = latest

    def _cdc_call(self, entities: Sequence[str], changed_since: dt.datetime) -> _CdcPage:
        body = self.request(
            "GET",
            "cdc",
            params={
                "entities": ",".join(entities),
                "changedSince": changed_since.isoformat(timespec="seconds"),
            },
            what="Reading changes from QuickBooks",
        )
        page = _CdcPage(time=body.get("time"))
        returned = 0
        for block in body.get("CDCResponse", []) or []:
            if read_fault(block):
                raise error_from_response(400, block, what="Reading changes")
            for response in block.get("QueryResponse", []) or []:
                if read_fault(response):
                    raise error_from_response(400, response, what="Reading changes")
                for key, value in response.items():
                    if not isinstance(value, list):
                        continue
                    page.changes.setdefault(key, []).extend(value)
                    returned += len(value)
                    total = response.get("totalCount")
                    if isinstance(total, int | str) and str(total).isdigit():
                        page.cut = page.cut or int(total) > len(value)
        # §5: the cap is shared across entities (or per entity: ambiguous); an answer that
        # reached it may have been cut either way.
        page.cut = page.cut or returned >= CDC_MAX_OBJECTS
        return page

    def batch(
        self, items: Sequence[Mapping[str, Any]], *, request_id: str
    ) -> dict[str, BatchResult]:
        """Run operations through `/batch`, 30 per request, results matched by `bId`.

        Args:
            items: `BatchItemRequest` elements, each with a unique `bId` (≤10 chars when a
                requestid is used, API.md §2.7) and an `operation` + entity, or a `Query`.
            request_id: Stable id for the whole call (required); each chunk gets one derived
                from it.

        Returns:
            One `BatchResult` per `bId`; a failed item carries its typed error.
        """
        bids = [str(item.get("bId", "")) for item in items]
        if any(not b for b in bids) or len(set(bids)) != len(bids):
            raise ValueError("every batch item needs a unique bId")
        if not request_id:
            raise ValueError("every QBO write needs a requestid (API.md §2.7)")
        base = request_id
        results: dict[str, BatchResult] = {}
        for index, start in enumerate(range(0, len(items), MAX_BATCH_ITEMS)):
            chunk = list(items[start : start + MAX_BATCH_ITEMS])
            # ≤36 chars, deterministic per chunk so a retried call replays each chunk (§2.7).
            chunk_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}:{index}"))
            body = self.request(
                "POST",
                "batch",
                json_body={"BatchItemRequest": chunk},
                write=True,
                request_id=chunk_id,
                batch=True,
                what="Sending a batch to QuickBooks",
            )
            answered = {str(r.get("bId")): r for r in body.get("BatchItemResponse", []) or []}
            for item in chunk:
                bid = str(item["bId"])
                results[bid] = _batch_result(bid, answered.get(bid))
        return results


def _batch_result(bid: str, answer: Mapping[str, Any] | None) -> BatchResult:
    if answer is None:
        return BatchResult(
            bid,
            error=QboRejected(
                "QuickBooks did not answer this item of the batch.", fix="Send it again."
            ),
        )
    if read_fault(answer):
        return BatchResult(bid, error=error_from_response(400, answer, what="A batch item"))
    for key, value in answer.items():
        if key == "QueryResponse":
            return BatchResult(bid, query=dict(value))
        if key not in ("bId", "time") and isinstance(value, dict):
            return BatchResult(bid, entity_name=key, entity=value)
    return BatchResult(bid)
