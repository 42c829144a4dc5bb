"""The ``/_sandbox/`` control API: reset, seed, inspect state, steer clock, tokens and faults.

Only reachable under ``/_sandbox/``; it passes JSON through to the components, whose own
``TypeError``/``ValueError`` on bad arguments become a 400 with the message.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from flask import Blueprint
from flask import Response
from flask import request

from sandbox import entities
from sandbox.config import DEV_CLIENT_ID
from sandbox.render import dumps

if TYPE_CHECKING:
    from sandbox.state import Sandbox


def _json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status=status, mimetype="application/json")


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True, force=True)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def make_control_blueprint(sb: Sandbox) -> Blueprint:
    """Build the ``/_sandbox`` blueprint for ``sb`` (see docs/sandbox-internals.md)."""
    bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

    @bp.errorhandler(ValueError)
    @bp.errorhandler(TypeError)
    @bp.errorhandler(KeyError)
    def bad_argument(exc: Exception) -> Response:
        return _json({"error": "bad_request", "message": str(exc)}, 400)

    @bp.post("/reset")
    def reset() -> Response:
        sb.reset()
        return _json({"ok": True})

    @bp.post("/seed")
    def seed() -> Response:
        from sandbox import seed as seeding

        body = _body()
        kind = body.get("kind", "demo")
        realm_id = body.get("realm_id")
        if kind == "demo":
            kwargs: dict[str, Any] = {k: body[k] for k in ("seed", "size") if k in body}
            if realm_id:
                kwargs["realm_id"] = str(realm_id)
            if body.get("as_of") is not None:
                kwargs["as_of"] = seeding.as_of_from_text(body["as_of"])
            realm = seeding.seed_demo(sb, **kwargs)
        elif kind == "empty":
            realm = seeding.seed_empty(sb, str(realm_id) if realm_id else None)
        elif kind == "sample":
            from sandbox.seed_sample import seed_sample

            realm = seed_sample(sb, str(realm_id) if realm_id else None)
        else:
            raise ValueError("kind must be 'demo', 'sample' or 'empty'")
        return _json({"realm_id": realm.id})

    @bp.get("/state")
    def state() -> Response:
        realm_id = request.args.get("realm")
        if not realm_id:
            return _json({"realms": [r.id for r in sb.realms()]})
        if not sb.has_realm(realm_id):
            return _json({"error": "not_found", "message": f"no realm {realm_id}"}, 404)
        realm = sb.realm(realm_id)
        wanted = request.args.get("entity")
        names = [entities.canonical(wanted)] if wanted else list(entities.ENTITIES)
        if None in names:
            raise ValueError(f"unknown entity {wanted}")
        with realm.lock:
            out: dict[str, Any] = {
                "realm_id": realm.id,
                "entities": {n: list(realm.store[n].values()) for n in names if n},
                "deleted": {n: list(realm.deleted[n].values()) for n in names if n},
                "files": {
                    id_: {"file_name": f[0], "content_type": f[1], "size": len(f[2])}
                    for id_, f in realm.files.items()
                },
            }
        return _json(out)

    @bp.post("/history")
    def history() -> Response:
        # Writes a company's past fast (CDC tests): {"realm_id", "entity", "objects": [...],
        # "start": iso, "step": seconds, "delete": [index, ...]}. Object i changes at
        # start + i*step; the listed ones are then deleted one step after the last change.
        body = _body()
        realm = sb.realm(str(body["realm_id"]))
        entity = entities.canonical(str(body["entity"]))
        if entity is None:
            raise ValueError(f"unknown entity {body['entity']}")
        start = datetime.fromisoformat(str(body["start"]))
        if start.tzinfo is None:
            raise ValueError("start needs a UTC offset")
        step = timedelta(seconds=float(body.get("step", 1)))
        objects = body.get("objects") or []
        stored = [
            realm.insert(entity, dict(obj), created=start + i * step)
            for i, obj in enumerate(objects)
        ]
        at = start + len(objects) * step
        for index in body.get("delete") or []:
            obj = stored[int(index)]
            realm.delete(entity, {"Id": obj["Id"], "SyncToken": obj["SyncToken"]}, at=at)
            at += step
        return _json({"ids": [o["Id"] for o in stored]})

    @bp.get("/counters")
    def counters() -> Response:
        return _json(sb.counters_snapshot())

    @bp.post("/clock")
    def clock() -> Response:
        body = _body()
        if "advance" in body:
            sb.clock.advance(float(body["advance"]))
        if "freeze" in body:
            at = body["freeze"]
            sb.clock.freeze(datetime.fromisoformat(at) if at else None)
        if body.get("unfreeze"):
            sb.clock.unfreeze()
        if body.get("reset"):
            # Extension: back to real time, so a test's clock steering cannot leak.
            sb.clock.reset()
        return _json({"now": sb.clock.time_str(), "frozen": sb.clock.frozen})

    @bp.post("/tokens/expire")
    def expire() -> Response:
        body = _body()
        return _json({"expired": sb.oauth.expire_access_tokens(body.get("realm_id"))})

    @bp.post("/tokens/revoke")
    def revoke() -> Response:
        body = _body()
        return _json({"revoked": sb.oauth.revoke_refresh_tokens(**body)})

    @bp.get("/oauth")
    def oauth_state() -> Response:
        return _json(sb.oauth.state())

    @bp.post("/faults")
    def faults_set() -> Response:
        return _json(sb.chaos.configure(**_body()))

    @bp.delete("/faults")
    def faults_clear() -> Response:
        return _json(sb.chaos.clear())

    @bp.get("/faults")
    def faults_get() -> Response:
        return _json(sb.chaos.state())

    @bp.post("/throttle")
    def throttle_set() -> Response:
        return _json(sb.throttle.configure(**_body()))

    @bp.get("/throttle")
    def throttle_get() -> Response:
        return _json(sb.throttle.stats())

    @bp.get("/format")
    def format_get() -> Response:
        return _json({"xml": sb.xml_responses})

    @bp.post("/format")
    def format_set() -> Response:
        # {"xml": true}: QBO's content negotiation (XML unless Accept names application/json,
        # 429 always XML); {"xml": false}: JSON always. sb.reset() restores the config's value.
        body = _body()
        xml = body.get("xml")
        if not isinstance(xml, bool) or set(body) - {"xml"}:
            raise ValueError('body must be {"xml": true} or {"xml": false}')
        sb.xml_responses = xml
        return _json({"xml": sb.xml_responses})

    @bp.post("/requestid")
    def requestid_set() -> Response:
        # {"honour": false}: every write runs again whatever its requestid (until reset).
        body = _body()
        if not isinstance(body.get("honour"), bool):
            raise ValueError("honour must be true or false")
        sb.honour_request_ids = body["honour"]
        return _json({"honour": sb.honour_request_ids})

    @bp.post("/webhooks")
    def webhooks_set() -> Response:
        return _json(sb.webhooks.configure(**_body()))

    @bp.get("/webhooks")
    def webhooks_get() -> Response:
        return _json(sb.webhooks.deliveries())

    @bp.get("/queries")
    def queries_get() -> Response:
        # Every query statement received (newest last), with the Fault of a refused one.
        return _json(sb.queries(request.args.get("realm")))

    @bp.post("/query")
    def query_set() -> Response:
        # {"max_results": n}: no query page holds more than n rows, whatever MAXRESULTS says
        # (a server cutting pages short). sb.reset() restores the config's value.
        body = _body()
        rows = body.get("max_results")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
            raise ValueError("max_results must be a positive integer")
        sb.max_query_results = rows
        return _json({"max_results": sb.max_query_results})

    @bp.post("/redirect-uris")
    def redirect_uris_add() -> Response:
        # {"redirect_uri": ..., "client_id": ...}: register one more redirect URI for a
        # configured client (the developer portal's list); matched exactly from then on.
        body = _body()
        client_id = str(body.get("client_id") or DEV_CLIENT_ID)
        sb.oauth.register_redirect_uri(client_id, str(body.get("redirect_uri") or ""))
        return _json({"client_id": client_id, "redirect_uris": sb.oauth.redirect_uris(client_id)})

    return bp
