"""Which QBO record a refused write points at: the thing the admin must fix.

QBO's Fault says what went wrong but often not with what: a 610 ("Object Not Found: something
you're trying to use has been made inactive") names no field at all (samples/
fault.object-not-found.json); a 2500 names the reference (`element`) and the Id in its Detail.
So the target is found from the Fault's element and detail and from the references the payload
sent (`ItemRef`, `VendorRef`, `AccountRef`, ...): for a 610, QBO is asked which of those records
are inactive now (one query per entity, only fields QBO lets a query filter on). The answer is
kept on the outbox row as "Entity:Id" (`OutboxEntry.error_target`); `core.push.causes` turns it
into a name from the local catalog and groups failures by it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from core.qbo import queries
from core.qbo.client import QboClient
from core.qbo.errors import QboError
from core.qbo.queryable import can_filter

log = logging.getLogger(__name__)

#: A reference field -> the QBO entity it names (those a construction admin can fix).
REF_ENTITIES = {
    "ItemRef": "Item",
    "VendorRef": "Vendor",
    "CustomerRef": "Customer",
    "AccountRef": "Account",
    "APAccountRef": "Account",
    "ARAccountRef": "Account",
    "EmployeeRef": "Employee",
    "ClassRef": "Class",
    "DepartmentRef": "Department",
    "TermRef": "Term",
}
#: Fault codes that mean "a referenced record is inactive, deleted or unknown" (API.md §3.2).
REFERENCE_CODES = ("610", "2500")
_ID_IN_DETAIL = re.compile(r"\(Id:\s*([^)\s]+)\)")


def refs(body: Any, path: str = "") -> Iterator[tuple[str, str, str]]:
    """Every reference in a payload: (element path, reference field, Id), in payload order."""
    if isinstance(body, Mapping):
        for key, value in body.items():
            element = f"{path}.{key}" if path else str(key)
            if key in REF_ENTITIES and isinstance(value, Mapping):
                if value.get("value") not in (None, ""):
                    yield element, str(key), str(value["value"])
            elif isinstance(value, Mapping | list):
                yield from refs(value, element)
    elif isinstance(body, list):
        for item in body:
            yield from refs(item, path)


def _field_of(element: str) -> str | None:
    """The reference field an element path ends in ("Line.ItemBasedExpenseLineDetail.ItemRef")."""
    last = element.rsplit(".", 1)[-1] if element else ""
    last = last.split("[", 1)[0]
    return last if last in REF_ENTITIES else None


def target_of(client: QboClient | None, body: Mapping[str, Any], exc: QboError) -> str | None:
    """The QBO record a refusal of `body` points at, as "Entity:Id"; None when not known.

    Args:
        client: The company's client, to ask QBO which referenced record is inactive (a 610
            names none); None to decide from the Fault alone.
        body: The payload QBO refused.
        exc: QBO's answer.
    """
    found = list(refs(body))
    field = _field_of(exc.element)
    if field is not None:
        # The Fault named the reference: its Id is in the Detail (2500), else in the payload.
        entity = REF_ENTITIES[field]
        named = _ID_IN_DETAIL.search(exc.qbo_detail or "")
        if named:
            return f"{entity}:{named.group(1)}"
        ids = [i for element, f, i in found if f == field and element.endswith(exc.element)]
        ids = ids or [i for _e, f, i in found if f == field]
        if ids:
            return f"{entity}:{ids[0]}"
    if exc.code not in REFERENCE_CODES or client is None or not found:
        return None
    return _inactive(client, found)


def _inactive(client: QboClient, found: list[tuple[str, str, str]]) -> str | None:
    """The first referenced record QBO has made inactive (asked per entity, in payload order)."""
    by_entity: dict[str, list[str]] = {}
    for _element, field, qbo_id in found:
        ids = by_entity.setdefault(REF_ENTITIES[field], [])
        if qbo_id not in ids:
            ids.append(qbo_id)
    for entity, ids in by_entity.items():
        if not (can_filter(entity, "Active") and can_filter(entity, "Id")):
            continue
        try:
            answer = client.query(
                queries.select(entity, queries.eq("Active", False), queries.in_("Id", ids))
            )
        except Exception as exc:  # noqa: BLE001 - naming the cause never fails the push
            log.warning(
                "could not ask QuickBooks which %s is inactive (%s)", entity, type(exc).__name__
            )
            continue
        inactive = {str(row.get("Id")) for row in answer.get(entity, []) or []}
        for qbo_id in ids:
            if qbo_id in inactive:
                return f"{entity}:{qbo_id}"
    return None
