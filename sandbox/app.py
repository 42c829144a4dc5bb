"""Assembles the sandbox's Flask app: QBO API, OAuth, control API and temp file links."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import Flask
from flask import Response
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.http import dump_options_header
from werkzeug.routing import PathConverter

from sandbox import faults
from sandbox import uploads
from sandbox.api import json_response
from sandbox.api import make_api_blueprint
from sandbox.api import new_tid
from sandbox.control import make_control_blueprint

if TYPE_CHECKING:
    from sandbox.state import Sandbox


class FileNameConverter(PathConverter):
    """The rest of the path, whatever it holds: `path` stops at a decoded LF (its `.`)."""

    regex = r"[^/][\s\S]*?"


def create_sandbox_app(sb: Sandbox) -> Flask:
    """Build the Flask app serving ``sb`` (one app per Sandbox, nothing global)."""
    app = Flask("sandbox")
    # Bodies are read (and capped) by the handlers themselves, so a too-large request gets a
    # QBO-shaped Fault rather than Werkzeug's HTML 413.
    app.config["MAX_CONTENT_LENGTH"] = None
    app.extensions["sandbox"] = sb
    app.url_map.converters["file_name"] = FileNameConverter
    app.register_blueprint(make_api_blueprint(sb))
    app.register_blueprint(sb.oauth.blueprint)
    app.register_blueprint(make_control_blueprint(sb))

    @app.get("/_files/<realm_id>/<key>/<file_name:name>")
    def temp_file(realm_id: str, key: str, name: str) -> Response:
        # The pre-signed URL of API.md §7.3: no bearer token, expires after temp_download_ttl.
        del name
        found = uploads.serve_temp(sb, realm_id, key)
        if found is None:
            return Response("Request has expired or is invalid", status=403, mimetype="text/plain")
        data, ctype, file_name = found
        resp = Response(data, mimetype=ctype)
        resp.headers["Content-Disposition"] = content_disposition(file_name)
        return resp

    @app.before_request
    def url_length() -> Response | None:
        # 414 in QBO's shape; the server itself refuses request lines over 64 KiB the same
        # way (server._QuietHandler.send_error).
        raw = request.environ.get("RAW_URI") or request.full_path
        limit = sb.config.max_url_bytes
        if len(raw.encode("latin-1", "replace")) > limit:
            return _fault_response(sb, faults.uri_too_long(limit))
        return None

    # Every HTTP error Flask or Werkzeug raises outside a handler (no route, method not
    # routed, a body or form refused...) answers a QBO Fault, never Werkzeug's HTML page.
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        if code == 404:
            fault = faults.not_found_url(request.path)
        elif code == 405:
            allowed = getattr(exc, "valid_methods", None) or ()
            fault = faults.method_not_allowed(request.method, sorted(allowed))
        elif code == 413:
            fault = faults.request_too_large(sb.config.max_request_bytes)
        elif code >= 500:
            fault = faults.system_fault()
        else:
            fault = faults.http_error(code, exc.name, exc.description or exc.name)
        return _fault_response(sb, fault)

    @app.errorhandler(500)
    def crashed(_exc: Exception) -> Response:
        return json_response(sb, 500, faults.system_fault().to_body(sb.clock.time_str()))

    @app.after_request
    def tid(resp: Response) -> Response:
        # Intuit puts a transaction id on every response; clients log it (API.md §1.1).
        resp.headers.setdefault("intuit_tid", new_tid())
        return resp

    return app


def _fault_response(sb: Sandbox, fault: faults.QboFault) -> Response:
    return json_response(sb, fault.status, fault.to_body(sb.clock.time_str()), fault.headers)


def content_disposition(file_name: str) -> str:
    """The `Content-Disposition` of a download: `attachment` naming the file (RFC 6266).

    An ASCII `filename` fallback for old clients, and the exact name, UTF-8 and percent-encoded,
    in `filename*` (RFC 5987). Quotes, backslashes and control characters (CR/LF would split
    the header) never reach the quoted fallback; the encoded form carries them all.
    """
    ascii_name = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode()
    fallback = "".join(
        "_" if ch in '"\\' or not ch.isprintable() else ch for ch in ascii_name
    ).strip()
    return dump_options_header(
        "attachment",
        {"filename": fallback or "download", "filename*": f"UTF-8''{quote(file_name, safe='')}"},
    )
