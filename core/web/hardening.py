"""What every response and every console request gets, whichever blueprint serves it.

- Headers: `Content-Security-Policy: frame-ancestors 'none'` and `X-Frame-Options: DENY` (a
  framed console page could be clicked into disconnecting a company), `X-Content-Type-Options:
  nosniff`, `Referrer-Policy: same-origin` (the OAuth callback's URL carries a code; Flask-WTF's
  HTTPS CSRF check still gets the same-origin Referer it needs).
- Flask-Admin's `?url=` return target is followed only when it is a path on this site
  (`/admin/...`); anything else (`http:evil.com`, `//evil.com`, `/\\evil.com`) is 400.
- A database value out of range or malformed (`?id=99999999999999999999`, `?id=abc`) is 404,
  never 500; no error page or flashed message shows SQL or its parameters.
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
from sqlalchemy.exc import DataError
from werkzeug.wrappers import Response

from core.web.access import guard_public_host

log = logging.getLogger(__name__)

__all__ = ["init_hardening", "is_local_path"]

HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
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
    app.register_error_handler(DataError, _bad_value)
    message_flashed.connect(_scrub_flash, app)


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
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
