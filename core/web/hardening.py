"""What every response and every console request gets, whichever blueprint serves it.

- Headers: a strict `Content-Security-Policy` (`CSP`: scripts, styles, images, fonts and
  fetches from this site only; no inline script, no inline style or `style=` attribute, no
  `javascript:` URL, no plugins, no `<base>`, never framed), backing up template escaping: a
  value that slipped through as markup still cannot run. The console keeps every script and
  style in `admin/static/` and passes data in `data-*` attributes. `X-Frame-Options: DENY` (a
  framed console page could be clicked into disconnecting a company), `X-Content-Type-Options:
  nosniff`, `Referrer-Policy: same-origin` (the OAuth callback's URL carries a code; Flask-WTF's
  HTTPS CSRF check still gets the same-origin Referer it needs). In production
  (`COSTBRIDGE_ENV=production`, served over HTTPS behind the proxy) also
  `Strict-Transport-Security: max-age=31536000; includeSubDomains` (`HSTS`): a browser that
  saw it never speaks plain HTTP to the host again, so development on http://127.0.0.1 never
  gets it.
- Flask-Admin's `?url=` return target is followed only when it is a path on this site
  (`/admin/...`); anything else (`http:evil.com`, `//evil.com`, `/\\evil.com`) is 400.
- A database value out of range or malformed (`?page=99999999999999999999`, the same in a list
  filter) is 404, never 500, on either database: PostgreSQL refuses it with a `DataError`, and
  SQLite's driver with a bare `OverflowError`, which the app's engines raise as the same
  `DataError`. No error page or flashed message shows SQL or its parameters. (Ids never get
  that far: `core.web.ids` refuses a bad one before any SQL.)
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask
from flask import abort
from flask import message_flashed
from flask import request
from flask import session
from sqlalchemy import Engine
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DataError
from werkzeug.wrappers import Response

from core.web.access import guard_public_host

log = logging.getLogger(__name__)

__all__ = ["CSP", "HSTS", "init_hardening", "is_local_path"]

CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
#: Query parameters Flask-Admin redirects to after a form (`get_redirect_target`).
RETURN_PARAMS = ("url",)
#: What SQLAlchemy and the drivers put in an exception's text.
_SQL_TEXT = re.compile(
    r"\[SQL:|\[parameters:|Background on this error|psycopg|sqlite3\.|"
    r"\b(SELECT|INSERT|UPDATE|DELETE)\b.+\b(FROM|INTO|SET|WHERE)\b",
    re.IGNORECASE | re.DOTALL,
)
SAFE_WORDS = (
    "The change could not be saved: a value is out of range, malformed or already used. "
    "Check the form and try again."
)


def is_local_path(target: str) -> bool:
    """Whether `target` is a path on this site: `/` then not `/` or `\\`, no scheme, no host."""
    cleaned = "".join(ch for ch in target if ch.isprintable() and not ch.isspace())
    if cleaned != target or not target.startswith("/"):
        return False
    return not target.startswith(("//", "/\\")) and "\\" not in target


def init_hardening(app: Flask) -> None:
    """Install the headers, the return-URL check and the database-error handling on `app`."""
    # First of all: on a public host name nothing but the public endpoints exists, not even a
    # sign-in redirect.
    app.before_request_funcs.setdefault(None, []).insert(0, guard_public_host)
    app.before_request(_local_return_targets)
    app.after_request(_headers)
    if app.extensions["costbridge"].settings.env == "production":
        app.after_request(_hsts)
    app.register_error_handler(DataError, _bad_value)
    for engine in _engines(app):
        if engine.dialect.name == "sqlite" and not event.contains(
            engine, "handle_error", _sqlite_out_of_range
        ):
            event.listen(engine, "handle_error", _sqlite_out_of_range)
    message_flashed.connect(_scrub_flash, app)


def _engines(app: Flask) -> list[Engine]:
    """Every engine the app's requests use: Flask-SQLAlchemy's and the runtime's."""
    with app.app_context():
        engines = list(app.extensions["sqlalchemy"].engines.values())
    return [*engines, app.extensions["costbridge"].engine]


def _sqlite_out_of_range(context: ExceptionContext) -> None:
    """`handle_error`: SQLite's integer past 64 bits raised as the `DataError` PostgreSQL gives.

    sqlite3 refuses it with a bare `OverflowError` ("Python int too large to convert to SQLite
    INTEGER"), which is no DBAPI error, so SQLAlchemy would let it through unwrapped.
    """
    exc = context.original_exception
    if isinstance(exc, OverflowError):
        raise DataError(context.statement, context.parameters, exc, hide_parameters=True) from exc


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _hsts(response: Response) -> Response:
    response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _local_return_targets() -> None:
    for name in RETURN_PARAMS:
        for target in request.args.getlist(name):
            if target and not is_local_path(target):
                abort(400, "Return addresses must be paths on this site.")


def _bad_value(exc: Exception) -> Response:
    # A value the database cannot take (an id past BIGINT, text for an integer): nothing by
    # that id exists. The statement and its parameters go to the log, not to the user.
    log.info("request refused, a value the database cannot take: %s", type(exc).__name__)
    return Response("Not found.\n", status=404, mimetype="text/plain")


def _scrub_flash(sender: Flask, message: str, category: str, **_: Any) -> None:
    """Replace a just-flashed message that carries SQL (Flask-Admin flashes `str(exc)`)."""
    if not _SQL_TEXT.search(str(message)):
        return
    log.warning("a flashed error carried database text; shown in plain words instead")
    flashes = session.get("_flashes", [])
    if flashes:
        flashes[-1] = (category, SAFE_WORDS)
        session["_flashes"] = flashes
