"""``/batch``: up to 30 independent operations, each answered by ``bId`` (API.md §6)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from typing import Any

from sandbox import entities
from sandbox import faults
from sandbox.faults import QboFault

if TYPE_CHECKING:
    from sandbox.state import Realm
    from sandbox.state import Sandbox

log = logging.getLogger(__name__)

_OPERATIONS = ("create", "update", "delete", "void")

MAX_BID_WITH_REQUEST_ID = 10
"""API.md §2.7: with a ``requestid`` on the batch, each ``bId`` holds at most 10 characters."""


def run(
    sb: Sandbox, realm: Realm, body: Any, *, with_request_id: bool = False
) -> list[dict[str, Any]]:
    """Run every item of a ``BatchItemRequest`` and return the ``BatchItemResponse`` list.

    Items run in order but independently: a failing item yields a Fault in its slot and the
    others still run (nothing is rolled back).

    Args:
        sb: The sandbox.
        realm: The company.
        body: The parsed request body.
        with_request_id: The request carries a ``requestid``: then a ``bId`` longer than
            10 characters refuses the whole batch (2050) before any item runs.
    """
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise faults.required_field("BatchItemRequest")
    if len(items) > sb.config.max_batch_items:
        raise faults.batch_too_large(sb.config.max_batch_items)
    if not sb.config.lenient_batch_ids:
        seen: set[str] = set()
        for item in items:
            bid = item.get("bId") if isinstance(item, dict) else None
            if bid is None:
                continue
            if str(bid) in seen:
                # Answers are matched by bId (API.md §6): two items with one bId could not be
                # told apart, so the batch is refused before any item runs.
                raise faults.invalid_field(
                    "BatchItemRequest.bId", f"bId {bid} is used by more than one item"
                )
            seen.add(str(bid))
    if with_request_id:
        for item in items:
            bid = item.get("bId") if isinstance(item, dict) else None
            if bid is not None and len(str(bid)) > MAX_BID_WITH_REQUEST_ID:
                raise faults.string_too_long("BatchItemRequest.bId", MAX_BID_WITH_REQUEST_ID)
    out = []
    for item in items:
        bid = item.get("bId") if isinstance(item, dict) else None
        try:
            result = _one(sb, realm, item)
        except QboFault as fault:
            result = {"Fault": fault.fault_object()}
        except Exception:  # noqa: BLE001 - one broken item must not sink the batch
            log.exception("sandbox batch item failed")
            result = {"Fault": faults.system_fault().fault_object()}
        if bid is not None:
            result["bId"] = bid
        out.append(result)
    return out


def _one(sb: Sandbox, realm: Realm, item: Any) -> dict[str, Any]:
    from sandbox.api import run_cdc
    from sandbox.api import write

    if not isinstance(item, dict):
        raise faults.invalid_field("BatchItemRequest", "each item must be an object")
    if "bId" not in item:
        raise faults.required_field("bId")
    if "Query" in item:
        text = item["Query"]
        if not isinstance(text, str):
            raise faults.invalid_field("Query", "Query must be a string")
        return {"QueryResponse": realm.query(text)}
    if "CDCQuery" in item:
        cdc = item["CDCQuery"]
        if not isinstance(cdc, dict):
            raise faults.invalid_field("CDCQuery", "CDCQuery must be an object")
        since = cdc.get("ChangedSince") or cdc.get("changedSince")
        names = cdc.get("Entities") or cdc.get("entities")
        return {"CDCResponse": [{"QueryResponse": run_cdc(sb, realm, names, since)}]}
    keys = [
        k
        for k in item
        if (entities.canonical(k) == k and k in entities.ENTITIES) or entities.by_json_key(k)
    ]
    if len(keys) != 1:
        raise faults.required_field("BatchItemRequest.<Entity>")
    key = keys[0]
    entity = entities.by_json_key(key) or key
    operation = str(item.get("operation", "create")).lower()
    if operation not in _OPERATIONS:
        raise faults.unsupported_operation(f"Operation {operation} is not supported in batch.")
    options = str(item.get("optionsData") or "").lower()
    payload = item[key]
    if operation == "void":
        result = write(realm, entity, payload, "void", None)
    elif operation == "update" and options == "void":
        result = write(realm, entity, payload, "update", "void")
    elif operation == "create":
        result = write(realm, entity, payload, "create", None)
    else:
        result = write(realm, entity, payload, operation, None)
    return {entities.ENTITIES[entity].json_key: result}
