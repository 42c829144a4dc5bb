"""Limits every request meets before any work, and the client address behind trusted proxies.

Sizes (checked before any view, the sign-in gate or the CSRF check reads the body):

- A whole request: `MAX_CONTENT_LENGTH`, the largest file a bill takes (`core.files.MAX_BYTES`)
  and room for the rest of its form; more is 413 before it is read.
- A form without files (`application/x-www-form-urlencoded`): `MAX_FORM_BODY` in all (Werkzeug
  applies `MAX_FORM_MEMORY_SIZE` to multipart text parts only); a text part of a multipart form:
  `MAX_FORM_MEMORY_SIZE`; at most `MAX_FORM_PARTS` parts.
- One form value: `MAX_FIELD` characters (QuickBooks' longest text, a memo, has 4000); one query
  value `MAX_QUERY_VALUE`; a list search (`?search=`) `MAX_SEARCH` characters in at most
  `MAX_SEARCH_TERMS` words (each word is one more `ILIKE` over every searchable column). More is
  400 in words; the value is neither echoed nor stored. Inputs with tighter limits of their own
  (an e-mail, 254) check them in their view; model forms carry their columns' lengths.

The webhook reads its own body with its own limit (`core.web.webhooks.MAX_BODY`) and is left
alone here.

Proxies: `COSTBRIDGE_TRUSTED_PROXIES` (a hop count, default 0) wraps the app in Werkzeug's
`ProxyFix`: the client address is then the one that many hops back in `X-Forwarded-For`, and
the scheme the one in `X-Forwarded-Proto`. With 0, those headers are ignored (anyone can send
them). `core.web.access.from_this_machine` keeps refusing a forwarded request as this machine's.
"""

from __future__ import annotations

from flask import Flask
from flask import abort
from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from core.files import MAX_BYTES

__all__ = [
    "MAX_FIELD",
    "MAX_FORM_BODY",
    "MAX_QUERY_VALUE",
    "MAX_SEARCH",
    "MAX_SEARCH_TERMS",
    "REQUEST_LIMITS",
    "init_limits",
    "trust_proxies",
]

#: Characters in one form value (QuickBooks' memo and description hold 4000).
MAX_FIELD = 4000
#: Characters in one query-string value (an OAuth code is far shorter).
MAX_QUERY_VALUE = 4096
#: Characters and words of a list search.
MAX_SEARCH = 200
MAX_SEARCH_TERMS = 10
#: Bytes of a form that carries no file (the budget grid of a big project fits many times).
MAX_FORM_BODY = 2 * 1024 * 1024
#: Flask's request limits: the largest file a bill takes plus the rest of its form; a text part
#: of a multipart form; how many parts.
REQUEST_LIMITS = {
    "MAX_CONTENT_LENGTH": MAX_BYTES + 1024 * 1024,
    # Werkzeug checks this against its read buffer (64 KiB reads plus what it holds back) as well
    # as text parts, so below ~256 KiB it refuses files too; text values are capped at
    # `MAX_FIELD` characters by `check_sizes`.
    "MAX_FORM_MEMORY_SIZE": 512 * 1024,
    "MAX_FORM_PARTS": 2000,
}
#: Blueprints that read their bodies themselves, with limits of their own.
OWN_LIMITS = frozenset({"qbo_webhooks"})
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def trust_proxies(app: Flask, hops: int) -> None:
    """Read the client's address and scheme `hops` proxies back (0: trust no forwarding)."""
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def init_limits(app: Flask) -> None:
    """Check sizes before every other `before_request` (`create_app` sets `REQUEST_LIMITS`)."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_sizes)


def check_sizes() -> None:
    """`before_request`: 413 for a body too big, 400 for a value too long, before any work."""
    if request.blueprint in OWN_LIMITS:
        return
    for value in request.args.values():
        if len(value) > MAX_QUERY_VALUE:
            abort(400, f"A value in the address is longer than {MAX_QUERY_VALUE} characters.")
    search = request.args.get("search", "")
    if len(search) > MAX_SEARCH or len(search.split()) > MAX_SEARCH_TERMS:
        abort(
            400,
            f"Search for at most {MAX_SEARCH} characters in at most {MAX_SEARCH_TERMS} words.",
        )
    if request.method in ("GET", "HEAD", "OPTIONS") or request.mimetype not in FORMS:
        return
    if request.mimetype == FORMS[0]:
        if (request.content_length or 0) > MAX_FORM_BODY:
            abort(413, "That form is far larger than any costbridge form.")
        request.max_content_length = min(request.max_content_length or MAX_FORM_BODY, MAX_FORM_BODY)
    for name, value in request.form.items(multi=True):
        if len(name) > MAX_FIELD or len(value) > MAX_FIELD:
            abort(
                400,
                f"A field of the form is longer than {MAX_FIELD} characters; shorten it "
                "and send the form again.",
            )
