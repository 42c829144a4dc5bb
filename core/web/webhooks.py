"""`POST /webhooks/qbo`: Intuit's change notifications, verified, de-duplicated, queued.

1. The raw body is read before anything parses it; `intuit-signature` must equal
   base64(HMAC-SHA256(verifier token, raw body)), compared with `hmac.compare_digest`
   (API.md §10.1). A bad or missing signature (or no verifier configured) is 401 and nothing
   is queued.
2. The body is parsed as either format (API.md §10.2 legacy object with `eventNotifications`;
   §10.3 CloudEvents array). Malformed JSON or an unknown shape is 400, never 500.
3. Events for realms no company has are ignored. Each remaining event is de-duplicated on
   (realm, entity, id, operation, lastUpdated) with a Redis `SET NX` that lives `DEDUP_TTL`
   (Intuit signs no timestamp, so replays are caught this way: RELIABILITY.md §2, "Webhooks").
4. One RQ job per realm (`core.qbo.webhook_jobs.process_changes`) gets the realm id and the
   change list (strings only, no tokens), and the answer is 200 at once (Intuit wants it within
   3 s). If queueing fails the dedup marks are removed and the answer is 503, so Intuit retries.

The blueprint must be exempt from CSRF (`csrf.exempt(bp)`): Intuit cannot send a CSRF token;
the signature is the check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import defaultdict
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request
from sqlalchemy import select
from werkzeug.wrappers import Response

from core import metrics
from core.crypto import scrubbed_logger
from core.models.company import Company

log = scrubbed_logger(__name__)

__all__ = ["make_webhooks_blueprint", "parse_events", "sign", "webhooks_blueprint"]

SIGNATURE_HEADER = "intuit-signature"
DEDUP_TTL = 7 * 24 * 3600
MAX_BODY = 1024 * 1024
DEDUP_PREFIX = "qbo:webhook:seen:"

# CloudEvents `type` carries the entity in lower case (qbo.bill.updated.v1); QBO's own names
# for the ones costbridge and its plugins care about (API.md §10.1).
_CANONICAL = {
    name.lower(): name
    for name in (
        "Account",
        "Attachable",
        "Bill",
        "BillPayment",
        "Budget",
        "Class",
        "CreditMemo",
        "Currency",
        "Customer",
        "Department",
        "Deposit",
        "Employee",
        "Estimate",
        "Invoice",
        "Item",
        "JournalCode",
        "JournalEntry",
        "Payment",
        "PaymentMethod",
        "Preferences",
        "Purchase",
        "PurchaseOrder",
        "RefundReceipt",
        "SalesReceipt",
        "TaxAgency",
        "Term",
        "TimeActivity",
        "Transfer",
        "Vendor",
        "VendorCredit",
    )
}
_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}


class MalformedPayload(ValueError):
    """The body is not a webhook payload of either format."""


def sign(verifier: str, body: bytes) -> str:
    """The `intuit-signature` value Intuit computes for `body` (tests and the sandbox use it)."""
    digest = hmac.new(verifier.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _signature_ok(verifier: str, body: bytes, header: str | None) -> bool:
    if not verifier or not header:
        return False
    expected = sign(verifier, body).encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value and len(value) <= 200:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def parse_events(payload: Any) -> list[tuple[str, dict[str, str]]]:
    """Turn either webhook format into `(realm_id, change)` pairs.

    A change is `{"entity", "id", "operation", "last_updated"}` plus `"deleted_id"` for merges.
    Events missing one of those are skipped.

    Raises:
        MalformedPayload: The envelope is neither format.
    """
    events: list[tuple[str, dict[str, str]]] = []
    if isinstance(payload, list):  # CloudEvents 1.0 array (API.md §10.3)
        for item in payload:
            if not isinstance(item, dict):
                raise MalformedPayload("CloudEvents array holds a non-object")
            realm = _text(item.get("intuitaccountid"))
            entity_id = _text(item.get("intuitentityid"))
            kind = item.get("type")
            when = _text(item.get("time"))
            parts = kind.split(".") if isinstance(kind, str) else []
            if not (realm and entity_id and when and len(parts) >= 3 and parts[0] == "qbo"):
                continue
            entity = _CANONICAL.get(parts[1].lower(), parts[1][:1].upper() + parts[1][1:])
            operation = _OPERATIONS.get(parts[2].lower(), parts[2][:1].upper() + parts[2][1:])
            change = {
                "entity": entity,
                "id": entity_id,
                "operation": operation,
                "last_updated": when,
            }
            data = item.get("data")
            if isinstance(data, dict) and _text(data.get("deletedid")):
                change["deleted_id"] = str(_text(data.get("deletedid")))
            events.append((realm, change))
        return events
    if isinstance(payload, dict) and isinstance(payload.get("eventNotifications"), list):
        for note in payload["eventNotifications"]:
            if not isinstance(note, dict):
                raise MalformedPayload("eventNotifications holds a non-object")
            realm = _text(note.get("realmId"))
            dce = note.get("dataChangeEvent")
            entities = dce.get("entities") if isinstance(dce, dict) else None
            if not realm or not isinstance(entities, list):
                continue
            for ent in entities:
                if not isinstance(ent, dict):
                    continue
                name, ident = _text(ent.get("name")), _text(ent.get("id"))
                op, updated = _text(ent.get("operation")), _text(ent.get("lastUpdated"))
                if not (name and ident and op and updated):
                    continue
                found = {"entity": name, "id": ident, "operation": op, "last_updated": updated}
                if _text(ent.get("deletedId")):
                    found["deleted_id"] = str(_text(ent.get("deletedId")))
                events.append((realm, found))
        return events
    raise MalformedPayload("neither a CloudEvents array nor an eventNotifications object")


def _dedup_key(realm: str, change: dict[str, str]) -> str:
    raw = "|".join(
        (realm, change["entity"], change["id"], change["operation"], change["last_updated"])
    )
    return DEDUP_PREFIX + hashlib.sha256(raw.encode("utf-8")).hexdigest()


def make_webhooks_blueprint() -> Blueprint:
    """A new `qbo_webhooks` blueprint serving `POST /webhooks/qbo`; exempt it from CSRF."""
    bp = Blueprint("qbo_webhooks", __name__)
    bp.after_request(metrics.count_webhook_response)

    @bp.post("/webhooks/qbo")
    def receive() -> Response | tuple[Response, int]:
        runtime = current_app.extensions["costbridge"]
        if request.content_length is not None and request.content_length > MAX_BODY:
            return jsonify(error="payload too large"), 413
        raw = request.get_data(cache=True)  # the exact bytes Intuit signed, before any parse
        if len(raw) > MAX_BODY:
            return jsonify(error="payload too large"), 413
        verifier = runtime.settings.qbo_webhook_verifier
        if not _signature_ok(verifier, raw, request.headers.get(SIGNATURE_HEADER)):
            if not verifier:
                log.warning("webhook refused: QBO_WEBHOOK_VERIFIER is not configured")
            else:
                log.warning("webhook refused: bad or missing intuit-signature")
            return jsonify(error="invalid signature"), 401
        try:
            events = parse_events(json.loads(raw))
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, Malformed
            return jsonify(error="malformed payload"), 400
        return _accept(runtime, events)

    return bp


def _accept(runtime: Any, events: list[tuple[str, dict[str, str]]]) -> Response:
    from core.jobs import queues
    from core.qbo import webhook_jobs

    realms = {realm for realm, _ in events}
    known: set[str] = set()
    if realms:
        with runtime.sessions() as db:
            known = set(db.scalars(select(Company.realm_id).where(Company.realm_id.in_(realms))))
    redis = runtime.redis
    fresh: dict[str, list[dict[str, str]]] = defaultdict(list)
    marks: dict[str, list[str]] = defaultdict(list)
    ignored = duplicates = 0
    for realm, change in events:
        if realm not in known:
            ignored += 1
            continue
        key = _dedup_key(realm, change)
        if redis.set(key, b"1", nx=True, ex=DEDUP_TTL):
            fresh[realm].append(change)
            marks[realm].append(key)
        else:
            duplicates += 1
    queued = 0
    for realm, changes in fresh.items():
        digest = hashlib.sha256(json.dumps(changes, sort_keys=True).encode()).hexdigest()[:24]
        try:
            queues.enqueue(
                redis,
                queues.WEBHOOKS,
                webhook_jobs.process_changes,
                job_id=f"webhook-{realm}-{digest}",
                kwargs={"realm_id": realm, "changes": changes},
                meta={"realm_id": realm, "kind": "webhook"},
            )
        except Exception:
            # Forget the marks so Intuit's retry of this delivery is not taken for a duplicate.
            log.exception("webhook: could not queue changes for realm %s", realm)
            for later in fresh:
                if marks[later]:
                    redis.delete(*marks[later])
            return Response('{"error": "try again"}', status=503, mimetype="application/json")
        queued += len(changes)
    if ignored:
        log.info("webhook: ignored %s event(s) for unknown realms", ignored)
    resp = jsonify(queued=queued, duplicates=duplicates, ignored=ignored)
    resp.status_code = 200
    return resp


#: Module-level factory alias; call it once per app.
webhooks_blueprint = make_webhooks_blueprint
