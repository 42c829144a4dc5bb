"""Operator endpoints and per-request bookkeeping.

- `GET /healthz`: the process answers (200, always, touching nothing).
- `GET /readyz`: the database is reachable and migrated to head and Redis answers; otherwise
  503 with the failing part named. No sign-in, no secret in either body.
- `GET /metrics`: Prometheus text (`core.metrics`). From this machine only, or, when
  `METRICS_TOKEN` is set, only with `Authorization: Bearer <token>` (then a reverse proxy on
  this machine cannot open it to the world by accident).

`init_ops(app)` also gives every request an id (the caller's `X-Request-Id` when well formed,
else a new one), binds it to the request's log lines, returns it in `X-Request-Id`, writes one
access line (path without its query string: the OAuth callback's carries a code) and observes
the request's latency.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import time

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from core import health
from core import logging_setup
from core import metrics
from core.web.access import from_this_machine

__all__ = ["init_ops", "make_health_blueprint"]

access_log = logging.getLogger("costbridge.access")
#: Probes hit these every few seconds; their access lines are DEBUG so they do not drown the rest.
QUIET_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics"})


def make_health_blueprint() -> Blueprint:
    """A new `ops` blueprint with `/healthz`, `/readyz` and `/metrics`."""
    bp = Blueprint("ops", __name__)

    @bp.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @bp.get("/readyz")
    def readyz() -> tuple[Response, int]:
        checks = health.readiness(current_app.extensions["costbridge"])
        failing = [c.part for c in checks if not c.ok]
        body = {
            "status": "ready" if not failing else "unavailable",
            "failing": failing,
            "checks": {
                c.part: {"ok": c.ok, **({"reason": c.reason} if c.reason else {})} for c in checks
            },
        }
        return jsonify(body), 200 if not failing else 503

    @bp.get("/metrics")
    def metrics_view() -> Response | tuple[Response, int]:
        runtime = current_app.extensions["costbridge"]
        token = runtime.settings.metrics_token
        if token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return jsonify(error="a valid metrics token is required"), 401
        elif not from_this_machine():
            return jsonify(error="metrics are served to this machine only"), 403
        return Response(metrics.render(runtime), mimetype=None, content_type=metrics.CONTENT_TYPE)

    return bp


def init_ops(app: Flask) -> None:
    """Register the `ops` blueprint and the request id, access line and latency hooks."""
    app.register_blueprint(make_health_blueprint())
    app.before_request(_begin)
    app.after_request(_end)
    app.teardown_request(_teardown)


def _begin() -> None:
    g.request_id = logging_setup.new_request_id(request.headers.get("X-Request-Id"))
    g.request_started = time.perf_counter()
    g.log_context = logging_setup.set_context(request_id=g.request_id)


def _end(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-Id"] = request_id
    started = g.get("request_started")
    if started is not None:
        seconds = time.perf_counter() - started
        endpoint = request.endpoint or "unmatched"
        metrics.http_request(endpoint, request.method, response.status_code, seconds)
        access_log.log(
            logging.DEBUG if endpoint in QUIET_ENDPOINTS else logging.INFO,
            "%s %s %s %.0fms",
            request.method,
            request.path,
            response.status_code,
            seconds * 1000,
        )
    return response


def _teardown(_exc: BaseException | None) -> None:
    token = g.pop("log_context", None)
    if token is not None:
        # Set in another context (a test client's nested request): nothing to undo here.
        with contextlib.suppress(ValueError):
            logging_setup.reset_context(token)
