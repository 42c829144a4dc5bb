"""The ``/v3/company/<realm>/...`` blueprint: one pipeline, then CRUD, query, cdc and friends.

Pipeline (docs/sandbox-internals.md): chaos -> oauth.authenticate -> realm -> throttle slot
-> requestid replay (writes) -> handler -> remember -> envelope with ``time``. Answers follow
QBO: XML (the ``IntuitResponse`` envelope, ``xml_render.py``) unless the request's Accept names
``application/json``, and a 429 is XML whatever was asked (API.md §1.1, §3.3). Only
``SandboxConfig.lenient_json`` (or ``POST /_sandbox/format {"xml": false}``) answers JSON
always.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from flask import Blueprint
from flask import Response
from flask import has_request_context
from flask import request
from werkzeug.exceptions import HTTPException

from sandbox import api_batch
from sandbox import entities
from sandbox import exchange_rates
from sandbox import faults
from sandbox import pdf
from sandbox import recurring
from sandbox import schema
from sandbox import uploads
from sandbox import xml_render
from sandbox.faults import QboFault
from sandbox.render import decode_utf8
from sandbox.render import dumps
from sandbox.render import loads

if TYPE_CHECKING:
    from sandbox.state import Realm
    from sandbox.state import Sandbox

log = logging.getLogger(__name__)

Result = tuple[int, Any]
"""(HTTP status, body): a dict is JSON, a str is text/plain."""

_REPLAY_SKIP = frozenset({401, 403, 429, 500, 503})

# API.md §2.7: a requestid holds at most 50 characters, 36 on /batch, where each bId may then
# hold at most 10. Longer ones get faults.string_too_long (2050), before anything runs.
MAX_REQUEST_ID = 50
MAX_BATCH_REQUEST_ID = 36


def accepts_json(accept: str | None) -> bool:
    """Whether an Accept header names ``application/json`` (with a non-zero quality).

    QBO answers JSON only then (API.md §1.1); ``*/*``, ``application/*`` or no header at all
    get XML there.
    """
    for part in (accept or "").split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        if media != "application/json":
            continue
        quality = next((p[2:].strip() for p in params if p.startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            return True
    return False


def wants_xml(sb: Sandbox, status: int, accept: str | None) -> bool:
    """Whether this answer goes out as XML: a 429 always (Intuit's gateway sends it as XML even
    to JSON clients), any other when JSON was not asked for; never in lenient JSON mode."""
    return sb.xml_responses and (status == 429 or not accepts_json(accept))


def json_response(
    sb: Sandbox, status: int, body: Any, headers: dict[str, str] | None = None
) -> Response:
    """Render a body (dict -> JSON with Decimal numbers, or XML; str -> text/plain).

    Dicts become XML instead when :func:`wants_xml` says so for the current request.
    """
    if isinstance(body, bytes):
        resp = Response(body, status=status, mimetype="application/pdf")
    elif isinstance(body, str):
        resp = Response(body, status=status, mimetype="text/plain")
    elif has_request_context() and wants_xml(sb, status, request.headers.get("Accept")):
        render = xml_render.throttle_response if status == 429 else xml_render.intuit_response
        sb.count("format:xml")
        resp = Response(
            render(body, sb.clock.time_str()), status=status, mimetype="application/xml"
        )
    else:
        resp = Response(dumps(body), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    sb.count(f"status:{status}")
    return resp


def make_api_blueprint(sb: Sandbox) -> Blueprint:
    """Build the QBO REST blueprint bound to ``sb``."""
    bp = Blueprint("qbo_api", __name__)

    # No automatic OPTIONS answer (an empty 200): QBO documents no CORS or OPTIONS support,
    # so OPTIONS gets the 405 Fault like any other method the API does not take.
    @bp.route(
        "/v3/company/<realm_id>/<path:rest>",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        provide_automatic_options=False,
    )
    def dispatch(realm_id: str, rest: str) -> Response:
        return handle(sb, realm_id, rest)

    @bp.route("/v3/company/<realm_id>", methods=["GET", "POST"], provide_automatic_options=False)
    @bp.route("/v3/company/<realm_id>/", methods=["GET", "POST"], provide_automatic_options=False)
    def bare(realm_id: str) -> Response:
        return handle(sb, realm_id, "")

    return bp


def handle(sb: Sandbox, realm_id: str, rest: str) -> Response:
    """Run one API request through the whole pipeline; never raises."""
    sb.count("requests")
    sb.count(f"requests:{realm_id}")
    headers: dict[str, str] = {}
    try:
        sb.chaos.before_request(realm_id, rest)
        sb.oauth.authenticate(request.headers.get("Authorization"), realm_id)
        realm = sb.realm(realm_id)
        with sb.throttle.slot(realm_id, batch=rest == "batch"):
            status, body = _with_request_id(sb, realm, rest)
    except QboFault as fault:
        status, body, headers = fault.status, fault.to_body(sb.clock.time_str()), fault.headers
    except HTTPException as exc:
        # Werkzeug's own refusals (a client that disconnects mid-body...) in QBO's shape.
        code = exc.code or 400
        refused = faults.http_error(code, exc.name, exc.description or exc.name)
        status, body = code, refused.to_body(sb.clock.time_str())
    except Exception:  # noqa: BLE001 - any bug becomes a SystemFault, never a dead server
        log.exception("sandbox API error on %s %s", request.method, request.path)
        status, body = 500, faults.system_fault().to_body(sb.clock.time_str())
    return json_response(sb, status, body, headers)


def _with_request_id(sb: Sandbox, realm: Realm, rest: str) -> Result:
    request_id = request.args.get("requestid")
    if (
        request.method != "POST"
        or not request_id
        or rest.startswith("query")
        or not sb.honour_request_ids
    ):
        return _route(sb, realm, rest)
    limit = MAX_BATCH_REQUEST_ID if rest == "batch" else MAX_REQUEST_ID
    if len(request_id) > limit:
        raise faults.string_too_long("requestid", limit)
    # Held across check, run and remember so two concurrent retries cannot both execute.
    with realm.lock:
        seen = realm.replay(request_id)
        if seen is not None:
            sb.count("requestid_replays")
            return seen
        try:
            status, body = _route(sb, realm, rest)
        except QboFault as fault:
            if fault.status in _REPLAY_SKIP:
                raise
            # Remember the exact body sent, so a retry gets the same bytes (time included).
            status, body = fault.status, fault.to_body(sb.clock.time_str())
        if status not in _REPLAY_SKIP:
            realm.remember(request_id, status, body)
        return status, body


def _envelope(sb: Sandbox, key: str, value: Any) -> dict[str, Any]:
    return {key: value, "time": sb.clock.time_str()}


def _read_body(sb: Sandbox) -> bytes:
    """The raw request body, after the size cap (413 QBO Fault above it)."""
    limit = sb.config.max_request_bytes
    if request.content_length is not None and request.content_length > limit:
        raise faults.request_too_large(limit)
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise faults.request_too_large(limit)
    return raw


def read_json(sb: Sandbox) -> Any:
    """The request body as JSON, after the size cap (413 QBO Fault above it).

    A body labelled anything but JSON is refused with 415 (QBO's answer is unconfirmed; it
    would read ``application/xml`` as XML, which the sandbox does not take); no Content-Type
    at all is read as JSON.
    """
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise faults.unsupported_media_type(request.content_type or "")
    return loads(_read_body(sb))


# Methods each fixed resource takes (API.md §1.1); another method there is a 405 Fault.
_METHODS: dict[str, tuple[str, ...]] = {
    "query": ("GET", "POST"),
    "cdc": ("GET",),
    "batch": ("POST",),
    "upload": ("POST",),
    "download": ("GET",),
    "companyinfo": ("GET", "POST"),
    "preferences": ("GET", "POST"),
    "taxservice": ("POST",),
}


def _route(sb: Sandbox, realm: Realm, rest: str) -> Result:
    parts = [p for p in rest.split("/") if p]
    method = request.method
    if not parts:
        raise faults.not_found_url(request.path)
    head = parts[0]
    allowed = _METHODS.get(head)
    if allowed is None and entities.spec_for_path(head) is not None:
        allowed = ("GET", "POST")
    if allowed is not None and method not in allowed and method != "HEAD":
        raise faults.method_not_allowed(method, allowed)
    if head == "query" and len(parts) == 1 and method in ("GET", "POST"):
        return 200, _envelope(sb, "QueryResponse", realm.query(_query_text(sb)))
    if head == "cdc" and len(parts) == 1 and method == "GET":
        return 200, _envelope(sb, "CDCResponse", [{"QueryResponse": _cdc(sb, realm)}])
    if head == "batch" and len(parts) == 1 and method == "POST":
        with_request_id = bool(request.args.get("requestid"))
        items = api_batch.run(sb, realm, read_json(sb), with_request_id=with_request_id)
        return 200, _envelope(sb, "BatchItemResponse", items)
    if head == "upload" and len(parts) == 1 and method == "POST":
        return 200, _envelope(sb, "AttachableResponse", uploads.upload(sb, realm))
    if head == "download" and len(parts) == 2 and method == "GET":
        return 200, uploads.download_url(realm, parts[1])
    if head == "companyinfo":
        return _singleton(sb, realm, "CompanyInfo", parts, method)
    if head == "preferences":
        return _singleton(sb, realm, "Preferences", parts, method)
    if head == "taxservice" and len(parts) == 2 and parts[1].lower() == "taxcode":
        return 200, dict(tax_service(realm, read_json(sb)), time=sb.clock.time_str())
    if head == "recurringtransaction" and len(parts) <= 2:
        return _recurring(sb, realm, parts, method)
    if head == "exchangerate":
        if len(parts) != 1:
            raise faults.not_found_url(request.path)
        return _exchange_rate(sb, realm, method)
    spec = entities.spec_for_path(head)
    if spec is None or spec.kind == "singleton" or len(parts) > 3:
        raise faults.not_found_url(request.path)
    if len(parts) == 3:
        return _form_action(sb, realm, spec, parts, method)
    if method == "GET" and len(parts) == 2:
        return 200, _envelope(
            sb, spec.json_key, _shown(realm, spec.name, realm.read(spec.name, parts[1]))
        )
    if method != "POST" or len(parts) != 1:
        raise faults.method_not_allowed(method, ("GET",) if len(parts) == 2 else ("POST",))
    body = read_json(sb)
    return 200, _envelope(
        sb,
        spec.json_key,
        write(realm, spec.name, body, request.args.get("operation"), request.args.get("include")),
    )


def _recurring(sb: Sandbox, realm: Realm, parts: list[str], method: str) -> Result:
    """``GET /recurringtransaction/<id>``; ``POST /recurringtransaction`` (create, update,
    ``?operation=delete``). Answers wrap the transaction: ``{"Invoice": {...}}``."""
    key = recurring.ENTITY
    if method == "GET" and len(parts) == 2:
        return 200, _envelope(sb, key, recurring.shown(realm, realm.read(key, parts[1])))
    if method == "POST" and len(parts) == 1:
        body = read_json(sb)
        return 200, _envelope(sb, key, recurring.write(realm, body, request.args.get("operation")))
    raise faults.method_not_allowed(method, ("GET",) if len(parts) == 2 else ("POST",))


def _exchange_rate(sb: Sandbox, realm: Realm, method: str) -> Result:
    """``GET /exchangerate?sourcecurrencycode=&asofdate=`` and ``POST /exchangerate`` (no Id)."""
    key = exchange_rates.ENTITY
    if method == "GET":
        args = request.args
        found = exchange_rates.read(realm, args.get("sourcecurrencycode"), args.get("asofdate"))
        return 200, _envelope(sb, key, found)
    return 200, _envelope(sb, key, exchange_rates.update(realm, read_json(sb)))


def _form_action(
    sb: Sandbox, realm: Realm, spec: entities.EntitySpec, parts: list[str], method: str
) -> Result:
    """``<entity>/<id>/send`` (POST) and ``<entity>/<id>/pdf`` (GET) of sales forms."""
    action = parts[2]
    if action == "send" and spec.sendable:
        if method != "POST":
            raise faults.method_not_allowed(method, ("POST",))
        obj = realm.send(spec.name, parts[1], request.args.get("sendTo"))
        return 200, _envelope(sb, spec.json_key, _shown(realm, spec.name, obj))
    if action == "pdf" and spec.printable:
        if method != "GET":
            raise faults.method_not_allowed(method, ("GET",))
        obj = _shown(realm, spec.name, realm.read(spec.name, parts[1]))
        return 200, pdf.render(spec.name, obj)
    raise faults.not_found_url(request.path)


def tax_service(realm: Realm, body: Any) -> dict[str, Any]:
    """``POST taxservice/taxcode``: a new TaxCode with its rates (new or existing ones)."""
    if not isinstance(body, dict):
        raise faults.invalid_field("TaxService", "TaxService must be a JSON object")
    return realm.tax_service(schema.checked("TaxService", body))


def write(
    realm: Realm, entity: str, body: Any, operation: str | None, include: str | None
) -> dict[str, Any]:
    """Dispatch a POST body to create/update/delete/void (shared with batch)."""
    if entity == recurring.ENTITY:
        return recurring.write(realm, body, operation)
    if entity == exchange_rates.ENTITY:
        if operation not in (None, "", "update"):
            raise faults.unsupported_operation(f"Operation {operation} is not supported.")
        return exchange_rates.update(realm, body)
    if not isinstance(body, dict):
        raise faults.invalid_field(entity, f"{entity} must be a JSON object")
    op = (operation or "").lower()
    if op == "delete":
        return realm.delete(entity, body)
    if op == "void" or (op == "update" and (include or "").lower() == "void"):
        return _shown(realm, entity, realm.void(entity, body))
    if op not in ("", "update", "create"):
        raise faults.unsupported_operation(f"Operation {operation} is not supported.")
    # A full-update echo carries Id; a create from an object model may carry "Id": "".
    if body.get("Id") not in (None, "") and op != "create":
        return _shown(realm, entity, realm.update(entity, body))
    if op == "update":
        raise faults.required_field("Id")
    return _shown(realm, entity, realm.create(entity, body))


def _shown(realm: Realm, entity: str, obj: dict[str, Any]) -> dict[str, Any]:
    # Names, paths, balances and TempDownloadUri are computed on every answer, as QBO does.
    return realm.shown(entity, obj)


def _singleton(sb: Sandbox, realm: Realm, entity: str, parts: list[str], method: str) -> Result:
    if method == "GET":
        # companyinfo/<realmId> (QBO's form) or companyinfo/1; preferences has no id.
        if entity == "CompanyInfo" and (len(parts) != 2 or parts[1] not in (realm.id, "1")):
            raise faults.not_found_url(request.path)
        if entity == "Preferences" and len(parts) != 1:
            raise faults.not_found_url(request.path)
        return 200, _envelope(sb, entity, realm.read(entity, "1"))
    if method == "POST" and len(parts) == 1:
        body = read_json(sb)
        if isinstance(body, dict) and body.get("Id") in (realm.id,):
            body = dict(body, Id="1")
        return 200, _envelope(sb, entity, realm.update(entity, body))
    raise faults.method_not_allowed(method, ("GET",))


def _query_text(sb: Sandbox) -> str:
    text = request.args.get("query")
    if text is None and request.method == "POST":
        # POSTed as application/text (API.md §4.1); accept any content type, it is raw text.
        text = decode_utf8(_read_body(sb))
    if not text or not text.strip():
        raise faults.parser_error('Encountered "<EOF>" at line 1, column 0.')
    return text


def parse_changed_since(sb: Sandbox, value: str | None) -> datetime:
    """Read ``changedSince``: with offset as given, without in the company's zone (§13)."""
    if not value:
        raise faults.required_field("changedSince")
    try:
        when = datetime.fromisoformat(value.strip().replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        raise faults.invalid_field("changedSince", "changedSince must be an ISO datetime") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=sb.clock.company_tz)
    return when


def run_cdc(
    sb: Sandbox, realm: Realm, entity_list: str | None, changed: str | None
) -> list[dict[str, Any]]:
    """Validate CDC arguments and return the ``QueryResponse`` list (shared with batch)."""
    if not entity_list:
        raise faults.required_field("entities")
    names = []
    for raw in entity_list.split(","):
        name = entities.canonical(raw.strip())
        if name is None or not entities.ENTITIES[name].in_cdc:
            raise faults.validation(
                "2010",
                "Request has invalid or unsupported property",
                f"Property Name:entities unsupported entity {raw.strip()}",
                "entities",
            )
        names.append(name)
    since = parse_changed_since(sb, changed)
    if since < sb.clock.now() - timedelta(days=sb.config.cdc_max_days):
        raise faults.validation(
            "4001",
            "Invalid query",
            f"QueryValidationError: changedSince cannot be more than "
            f"{sb.config.cdc_max_days} days in the past",
            "changedSince",
        )
    return realm.cdc(names, since)


def _cdc(sb: Sandbox, realm: Realm) -> list[dict[str, Any]]:
    return run_cdc(sb, realm, request.args.get("entities"), request.args.get("changedSince"))


def new_tid() -> str:
    """An ``intuit_tid`` value: a fresh id per response, like Intuit's transaction ids."""
    return f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"
