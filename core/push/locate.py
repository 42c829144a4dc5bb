"""Finding in QBO the record an earlier attempt of a write may have created (outcome unknown).

The marker each payload carries sits in free text (a Bill's or Invoice's `PrivateNote`, a
TimeActivity's `Description`, an Attachable's `Note`) that QBO's query language cannot filter on
(Intuit answers Fault 4001, "property 'PrivateNote' is not queryable"). So the look-up narrows
by fields QBO does let a query filter (`core.qbo.queryable`), reads every page of the answer,
and looks for the marker in each candidate here:

* Bill, VendorCredit: VendorRef and TxnDate, and DocNumber when we sent one. All three are
  filterable (API.md §4.2); a bill's DocNumber is stored as sent, never renumbered (§11.2).
* Invoice: CustomerRef and TxnDate (§4.2). Not DocNumber: QBO may replace it by its own
  number when the company does not use custom transaction numbers (§11.5, §11.16).
* Purchase: TxnDate, and DocNumber when sent; the payee (`EntityRef`) is not confirmed
  filterable, and the marker identifies the record anyway.
* TimeActivity: TxnDate and EmployeeRef (VendorRef for a vendor's time); it has no DocNumber.
* Attachable: AttachableRef.EntityRef.Type and .value, the record it is attached to (§7.1).

Paging goes to the end: STARTPOSITION advances by the rows actually returned, and a page shorter
than asked ends the walk only once as many rows as `COUNT(*)` of the same conditions reported
were read (else the next page is asked for, until one comes back empty). A cut page (a server
capping MAXRESULTS) therefore never reads as "not found"; an answer that ends before the count
raises `TryLater`, so the write stays unknown instead of being sent again.

Where QBO enforces unique document numbers (Fault 6140/6210), a create refused as a duplicate
is looked up the same way: a record carrying our marker is our own earlier attempt (done); one
without it is somebody else's record with that number, and the admin is told so.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from core.contracts import QboPayload
from core.errors import TryLater
from core.qbo import queries
from core.qbo.client import QboClient

#: Rows per page of a look-up (QBO's maximum).
PAGE = queries.MAX_RESULTS


def _ref(body: Mapping[str, Any], key: str) -> str | None:
    ref = body.get(key)
    if isinstance(ref, Mapping) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    return str(value) if value not in (None, "") else None


def narrowing(payload: QboPayload) -> dict[str, str]:
    """The equality conditions (field -> value) that narrow the look-up of `payload`.

    Derived from what the payload sends, per entity (module docstring); a mapper's own
    `find_by` adds to them. Every field is one QBO filters on; `select` checks it again.
    """
    body = payload.body
    entity = payload.entity
    found: dict[str, str | None] = {}
    if entity in ("Bill", "VendorCredit"):
        found = {
            "VendorRef": _ref(body, "VendorRef"),
            "TxnDate": _text(body, "TxnDate"),
            "DocNumber": _text(body, "DocNumber"),
        }
    elif entity == "Invoice":
        found = {"CustomerRef": _ref(body, "CustomerRef"), "TxnDate": _text(body, "TxnDate")}
    elif entity == "Purchase":
        found = {"TxnDate": _text(body, "TxnDate"), "DocNumber": _text(body, "DocNumber")}
    elif entity == "TimeActivity":
        worker = "VendorRef" if body.get("NameOf") == "Vendor" else "EmployeeRef"
        found = {"TxnDate": _text(body, "TxnDate"), worker: _ref(body, worker)}
    elif entity == "Attachable":
        links = body.get("AttachableRef")
        first = links[0] if isinstance(links, list) and links else {}
        target = first.get("EntityRef") if isinstance(first, Mapping) else None
        if isinstance(target, Mapping):
            found = {
                "AttachableRef.EntityRef.Type": _text(target, "type"),
                "AttachableRef.EntityRef.value": _text(target, "value"),
            }
    else:
        found = {"TxnDate": _text(body, "TxnDate")}
    out = {field: value for field, value in found.items() if value is not None}
    for field, value in payload.find_by.items():
        out.setdefault(field, str(value))
    return out


def candidates(client: QboClient, entity: str, conditions: list[queries.Cond]) -> Iterator[Any]:
    """Every row matching `conditions`, ordered by Id, to the very end (module docstring).

    Raises:
        TryLater: The pages ended before as many rows as `COUNT(*)` reported were seen.
    """
    expected = client.count(entity, *conditions)
    seen = 0
    start = 1
    while True:
        statement = queries.select(
            entity, *conditions, order_by="Id", start_position=start, max_results=PAGE
        )
        rows = client.query(statement).get(entity, []) or []
        yield from rows
        seen += len(rows)
        start += len(rows)
        # A short page ends the answer only once every counted row was read: QBO may cap a
        # page below what was asked, and a cut answer must never read as "not there".
        if not rows or (len(rows) < PAGE and seen >= expected):
            break
    if seen < expected:
        raise TryLater(
            "QuickBooks answered fewer records than it counted while costbridge looked for an "
            "earlier attempt of this change; it will look again.",
            detail=f"{entity}: counted {expected}, read {seen}",
        )


def find_by_marker(client: QboClient, payload: QboPayload, marker: str) -> dict[str, Any] | None:
    """The record an earlier attempt of this write created, if QBO has it; else None."""
    conditions = [queries.eq(field, value) for field, value in narrowing(payload).items()]
    for row in candidates(client, payload.entity, conditions):
        if marker and marker in str(row.get(payload.marker_field, "")):
            return dict(row)
    return None
