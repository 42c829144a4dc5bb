"""`POST /webhooks/qbo`: Intuit's change notifications, verified, de-duplicated, queued.

1. The raw body is read before anything parses it; `intuit-signature` must equal
   base64(HMAC-SHA256(verifier token, raw body)), compared with `hmac.compare_digest`
   (API.md §10.1). A bad or missing signature (or no verifier configured) is 401 and nothing
   is queued.
2. The body is parsed as either format (API.md §10.2 legacy object with `eventNotifications`;
   §10.3 CloudEvents array). Malformed JSON or an unknown shape is 400, never 500.
3. Events for realms no company has are ignored. The others are stored in the webhook inbox
   (`core.qbo.webhook_inbox`), UNIQUE on (realm, entity, id, operation, lastUpdated): Intuit
   signs no timestamp, so that key is the replay defence (RELIABILITY.md §2, "Webhooks"), and
   a change older than what was already applied for its record is ignored. That commit is the
   acceptance; if the database cannot take it the answer is 503 and Intuit retries.
4. Then one RQ job per realm (`core.qbo.webhook_jobs.process_changes`) gets the realm id, the
   change list and the inbox row ids (strings and ints, no tokens), and the answer is 200 (Intuit
   wants it within 3 s). If queueing fails the rows stay stored and the answer is 503: Intuit's
   retry queues them, and so does the maintenance sweep.

The body is read in chunks and refused (413) past `MAX_BODY` (1 MB), so a huge or endless body
never sits in memory.

The blueprint must be exempt from CSRF (`csrf.exempt(bp)`): Intuit cannot send a CSRF token;
the signature is the check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from core import metrics
from core.crypto import scrubbed_logger
from core.qbo.webhook_inbox import queue_pending
from core.qbo.webhook_inbox import store_changes

log = scrubbed_logger(__name__)

__all__ = ["make_webhooks_blueprint", "parse_events", "read_body", "sign", "webhooks_blueprint"]

SIGNATURE_HEADER = "intuit-signature"
MAX_BODY = 1024 * 1024
CHUNK = 64 * 1024

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
    # Printable only: a NUL or control character has no place in an id, and PostgreSQL text
    # cannot hold a NUL at all.
    if isinstance(value, str) and value and len(value) <= 200 and value.isprintable():
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


def read_body(limit: int = MAX_BODY) -> bytes | None:
    """The raw request body, read in chunks; None as soon as it passes `limit` bytes.

    Never holds more than `limit` plus one chunk in memory, whatever `Content-Length` says or
    when the body is chunked (no length at all).
    """
    if request.content_length is not None and request.content_length > limit:
        return None
    stream = request.stream
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def make_webhooks_blueprint() -> Blueprint:
    """A new `qbo_webhooks` blueprint serving `POST /webhooks/qbo`; exempt it from CSRF."""
    bp = Blueprint("qbo_webhooks", __name__)
    bp.after_request(metrics.count_webhook_response)

    @bp.post("/webhooks/qbo")
    def receive() -> Response | tuple[Response, int]:
        runtime = current_app.extensions["costbridge"]
        raw = read_body()  # the exact bytes Intuit signed, before any parse
        if raw is None:
            # Say so and close: the rest of an oversized body is never read.
            resp = jsonify(error="payload too large")
            resp.status_code = 413
            resp.headers["Connection"] = "close"
            return resp
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


def _try_again(words: str) -> Response:
    return Response(json.dumps({"error": words}), status=503, mimetype="application/json")


def _accept(runtime: Any, events: list[tuple[str, dict[str, str]]]) -> Response:
    """Store the changes (that commit is the acceptance), then queue them.

    503 when they cannot be stored, and also when they were stored but could not be queued:
    Intuit then sends the delivery again and that retry queues them (the maintenance sweep
    does too, if Intuit gives up first).
    """
    try:
        with runtime.sessions() as db:
            stored = store_changes(db, events)
            db.commit()
    except SQLAlchemyError as exc:
        log.warning("webhook: could not store the delivery: %s", type(exc).__name__)
        return _try_again("could not store the delivery; send it again")
    try:
        queued = queue_pending(runtime, stored.pending)
    except Exception as exc:  # Redis down or failing: the rows wait, stored, for a retry
        log.warning("webhook: stored but could not queue: %s", type(exc).__name__)
        return _try_again("stored, but could not queue; send it again")
    if stored.ignored:
        log.info("webhook: ignored %s event(s) for unknown realms", stored.ignored)
    resp = jsonify(
        queued=queued,
        duplicates=stored.duplicates,
        stale=stored.stale,
        ignored=stored.ignored,
    )
    resp.status_code = 200
    return resp


#: Module-level factory alias; call it once per app.
webhooks_blueprint = make_webhooks_blueprint
