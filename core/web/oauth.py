"""Connect a company to QuickBooks (OAuth 2 authorization code, authlib) and disconnect it.

Routes (blueprint `qbo_oauth`, prefix `/qbo`):

- `GET /qbo/company/<id>`: the connection status, with a "Connect to QuickBooks" button (a
  form) or Reconnect and Disconnect buttons.
- `POST /qbo/connect/<id>` (CSRF token; a GET changes nothing and answers 405): starts the
  authorization: a fresh `state` kept in the user's session, then a redirect to Intuit. With
  `switch=1` (sent only by the switch page) the sign-in may pick another QuickBooks company.
- `GET /qbo/switch/<id>`: "Switch this company to another QuickBooks company": what a switch
  does to the company's projects, actuals, files and waiting pushes (counts), and the button.
- `GET /qbo/callback`: Intuit's redirect back: checks `state`, refuses a realmId another
  company already has, refuses a realmId other than the company's own unless the switch was
  confirmed (`core.realm_switch`), exchanges the code, stores the realmId and the encrypted
  tokens, marks the company connected, and re-queues the pushes that waited for the connection.
- `POST /qbo/disconnect/<id>`: revokes the refresh token at Intuit and forgets the tokens.

Endpoints come from the discovery document (`QBO_DISCOVERY_URL`), so real Intuit works by
configuration alone. `redirect_uri` is `QBO_REDIRECT_URI`, never built from the request
(RELIABILITY.md §2, ASVS 10.4.1). The `state` is single-use and bound to the session that
started the flow (ASVS 10.1.2). Like the console, these pages answer only this machine until
sign-in and roles exist.
"""

from __future__ import annotations

import hmac
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from flask import Blueprint
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template_string
from flask import request
from flask import session
from flask import url_for
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.crypto import TokenVault
from core.crypto import scrubbed_logger
from core.errors import CostbridgeError
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.qbo import revocation
from core.qbo.grants import store_grant
from core.qbo.oauth_config import OAuthConfig
from core.qbo.oauth_protocol import authorization_url
from core.qbo.oauth_protocol import exchange_code
from core.qbo.oauth_protocol import realm_of_token
from core.qbo.oauth_states import consume_state
from core.qbo.oauth_states import issue_state
from core.qbo.revocation import cancel_for_realm
from core.realm_switch import SwitchImpact
from core.realm_switch import impact
from core.realm_switch import switch_realm
from core.web.access import from_this_machine
from core.web.access import on_public_host

log = scrubbed_logger(__name__)

SESSION_KEY = "qbo_oauth"

__all__ = [
    "make_oauth_blueprint",
    "oauth_blueprint",
    "switch_words",
]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>QuickBooks connection</title></head>
<body>
<h1>{{ company.name }}: QuickBooks</h1>
{% if message %}<p role="status">{{ message }}</p>{% endif %}
<p>Status: <strong>{{ status_words }}</strong>
{% if company.realm_id %}(company id {{ company.realm_id }}){% endif %}</p>
{% if company.connection_problem %}<p>{{ company.connection_problem }}</p>{% endif %}
{% if company.connection_status.value == "connected" %}
<form method="post" action="{{ url_for('qbo_oauth.disconnect', company_id=company.id) }}">
  {% if csrf_token is defined %}
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  {% endif %}
  <button type="submit">Disconnect QuickBooks</button>
</form>
{% endif %}
<form method="post" action="{{ url_for('qbo_oauth.connect', company_id=company.id) }}">
  {% if csrf_token is defined %}
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  {% endif %}
  <button type="submit">{{ 'Reconnect' if company.realm_id else 'Connect to QuickBooks' }}</button>
</form>
{% if company.realm_id %}
<p><a href="{{ url_for('qbo_oauth.switch', company_id=company.id) }}">Switch this company to
another QuickBooks company</a></p>
{% endif %}
</body></html>
"""

_SWITCH_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switch QuickBooks company</title></head>
<body>
<h1>{{ company.name }}: switch to another QuickBooks company</h1>
<ul>{% for line in lines %}<li>{{ line }}</li>{% endfor %}</ul>
<form method="post" action="{{ url_for('qbo_oauth.connect', company_id=company.id) }}">
  {% if csrf_token is defined %}
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  {% endif %}
  <input type="hidden" name="switch" value="1">
  <button type="submit">Switch this company to another QuickBooks company</button>
</form>
</body></html>
"""

_STATUS_WORDS = {
    ConnectionStatus.CONNECTED: "Connected",
    ConnectionStatus.DISCONNECTED: "Not connected",
    ConnectionStatus.RECONNECT_NEEDED: "Reconnect needed",
}


def _runtime() -> Any:
    return current_app.extensions["costbridge"]


def _oauth_config() -> OAuthConfig:
    return OAuthConfig.from_settings(_runtime().settings)


def _vault() -> TokenVault:
    return TokenVault(_runtime().settings.token_keys)


def make_oauth_blueprint() -> Blueprint:
    """A new `qbo_oauth` blueprint (prefix `/qbo`); register one per app."""
    bp = Blueprint("qbo_oauth", __name__, url_prefix="/qbo")

    @bp.before_request
    def only_this_machine() -> None:
        # Intuit's redirect reaches the callback through the public host name; the one-time
        # server-side state is its check there.
        if request.endpoint == "qbo_oauth.callback" and on_public_host():
            return
        # Same rule as the console (admin/auth.py) until sign-in and roles exist.
        allowed = current_app.config.get("QBO_CONNECT_ALLOWED")
        ok = allowed() if callable(allowed) else from_this_machine()
        if not ok:
            abort(403, "QuickBooks connections are managed from this machine only for now.")

    @bp.get("/company/<id:company_id>")
    def status(company_id: int) -> Response | str:
        message = request.args.get("m", "")
        # The console, when mounted, shows this page in its own look (admin/pages/companies.py).
        console_page = current_app.config.get("QBO_STATUS_PAGE")
        if callable(console_page):
            return console_page(company_id, _MESSAGES.get(message, ""))  # type: ignore[no-any-return]
        with _runtime().sessions() as db:
            company = db.get(Company, company_id) or abort(404)
            return render_template_string(
                _PAGE,
                company=company,
                message=_MESSAGES.get(message, ""),
                status_words=_STATUS_WORDS.get(company.connection_status, "Unknown"),
            )

    @bp.get("/switch/<id:company_id>")
    def switch(company_id: int) -> Response | str:
        console_page = current_app.config.get("QBO_SWITCH_PAGE")
        if callable(console_page):
            return console_page(company_id)  # type: ignore[no-any-return]
        with _runtime().sessions() as db:
            company = db.get(Company, company_id) or abort(404)
            return render_template_string(
                _SWITCH_PAGE, company=company, lines=switch_words(impact(db, company))
            )

    @bp.post("/connect/<id:company_id>")
    def connect(company_id: int) -> Response:
        allow_switch = request.form.get("switch") == "1"
        with _runtime().sessions() as db, db.begin():
            if db.get(Company, company_id) is None:
                abort(404)
            state = issue_state(db, company_id, allow_switch=allow_switch)
        session[SESSION_KEY] = {"state": state, "company_id": company_id}
        try:
            url = authorization_url(_oauth_config(), state)
        except CostbridgeError as exc:
            return _fail(company_id, exc.message, 503)
        return redirect(url, code=302)

    @bp.get("/callback")
    def callback() -> Response:
        pending = session.pop(SESSION_KEY, None)
        returned = request.args.get("state", "")
        matches = isinstance(pending, dict) and hmac.compare_digest(
            str(pending.get("state", "")).encode(), returned.encode("utf-8", "replace")
        )
        # On the console's own host the browser that started the sign-in must be the one
        # coming back (its cookie). On the public host name that cookie is never sent, so
        # only a cookie that names another sign-in is refused there.
        if not matches and (pending is not None or not on_public_host()):
            return _refused_state()
        # Single use, server-side: of two callbacks with this state only one gets past here,
        # whatever cookie they carry. (On the public host name the console's cookie is not
        # sent at all, so the server-side state is the binding there.)
        with _runtime().sessions() as db, db.begin():
            taken = consume_state(db, returned)
        if taken is None:
            return _refused_state()
        company_id = taken.company_id
        if isinstance(pending, dict) and pending.get("company_id") != company_id:
            return _refused_state()
        if request.args.get("error"):
            return _done(company_id, "refused")
        code = request.args.get("code", "")
        realm_id = request.args.get("realmId", "")
        if not code or len(code) > 4096 or not _is_realm_id(realm_id):
            return _fail(company_id, "Intuit's answer lacked the code or company id.", 400)
        # A realm already linked to another company is refused before the code is exchanged,
        # and nothing is revoked: revoking a refresh token disconnects the app from that
        # QuickBooks company (API.md §8.5), i.e. it would cut the other company off. The
        # unused code simply expires at Intuit.
        with _runtime().sessions() as db:
            current = db.get(Company, company_id) or abort(404)
            other = _owner_of(db, realm_id, company_id)
            if other is not None:
                return _already_connected(company_id, realm_id, other)
            refusal = _switch_refusal(db, current, realm_id, allowed=taken.allow_switch)
        if refusal is not None:
            return refusal
        oauth = _oauth_config()
        try:
            token = exchange_code(oauth, code)
        except OAuthError as exc:
            log.warning("code exchange refused: %s", exc.error)
            return _fail(company_id, "Intuit refused the sign-in code; start again.", 400)
        except (requests.RequestException, CostbridgeError, ValueError) as exc:
            log.warning("code exchange failed: %s", type(exc).__name__)
            return _fail(company_id, "Could not reach Intuit to finish connecting; try again.", 502)
        # The realmId came through the browser: prove it with the new token before storing.
        settings = _runtime().settings
        try:
            info = realm_of_token(
                settings.qbo_api_base,
                realm_id,
                str(token.get("access_token", "")),
                minor_version=settings.qbo_minor_version,
            )
        except requests.RequestException as exc:
            log.warning("CompanyInfo check failed: %s", type(exc).__name__)
            return _fail(company_id, "Could not reach Intuit to finish connecting; try again.", 502)
        if info is None:
            log.warning("OAuth callback refused: the token does not open realm %s", realm_id)
            return _fail(
                company_id,
                "The QuickBooks company in Intuit's answer is not the one you signed in to; "
                "nothing was stored. Start again from the company page.",
                400,
            )
        vault = _vault()
        with _runtime().sessions() as db, db.begin():
            company = db.scalars(
                select(Company).where(Company.id == company_id).with_for_update()
            ).one_or_none()
            if company is None:
                abort(404)
            # Another company took this realm while the code was being exchanged: keep its
            # connection (no revoke, for the reason above) and drop the tokens just issued.
            other = _owner_of(db, realm_id, company_id)
            if other is not None:
                return _already_connected(company_id, realm_id, other)
            refusal = _switch_refusal(db, company, realm_id, allowed=taken.allow_switch)
            if refusal is not None:
                return refusal
            left = company.realm_id
            try:
                switch_realm(db, company, realm_id)
            except CostbridgeError as exc:
                return _fail(company_id, f"{exc.message} {exc.fix}", 409)
            store_grant(company, token, vault, realm_id=realm_id)
            company.qbo_company_name = str(info.get("CompanyName") or "")[:200] or None
            cancel_for_realm(db, realm_id)
        if left is not None and left != realm_id:
            log.info("company %s switched from realm %s to realm %s", company_id, left, realm_id)
        log.info("company %s connected to realm %s", company_id, realm_id)
        _resume_company(company_id)
        return _done(company_id, "connected")

    @bp.post("/disconnect/<id:company_id>")
    def disconnect(company_id: int) -> Response:
        vault = _vault()
        oauth = _oauth_config()
        with _runtime().sessions() as db, db.begin():
            company = db.get(Company, company_id, with_for_update=True) or abort(404)
            confirmed = revocation.disconnect(db, company, oauth, vault)
        log.info("company %s disconnected from QuickBooks (revoked=%s)", company_id, confirmed)
        return redirect(
            url_for(
                "qbo_oauth.status",
                company_id=company_id,
                m="disconnected" if confirmed else "disconnected-unconfirmed",
            )
        )

    return bp


_MESSAGES = {
    "connected": "Connected to QuickBooks.",
    "refused": "The QuickBooks sign-in was cancelled or refused; nothing changed.",
    "disconnected": "Disconnected: QuickBooks no longer accepts costbridge for this company.",
    "disconnected-unconfirmed": (
        "Disconnected here, but Intuit did not confirm the revocation yet: it stays pending and "
        "costbridge keeps asking Intuit until it does."
    ),
}


def _is_realm_id(value: str) -> bool:
    """ASCII digits only (`"١٢٣".isdigit()` is true too), and no longer than the column."""
    return 0 < len(value) <= 32 and value.isascii() and value.isdigit()


def _refused_state() -> Response:
    log.warning("OAuth callback refused: state unknown, expired, used or not from this browser")
    return Response(
        "This QuickBooks sign-in did not start here (or was already used). "
        "Start again from the company page.",
        status=400,
        mimetype="text/plain",
    )


def _done(company_id: int, message: str) -> Response:
    """Back to the company page; on the public host name (no console there), words only."""
    if from_this_machine():
        return redirect(url_for("qbo_oauth.status", company_id=company_id, m=message))
    return Response(
        f"{_MESSAGES[message]} Return to the costbridge console.\n",
        status=200,
        mimetype="text/plain",
    )


def _owner_of(db: Session, realm_id: str, company_id: int) -> Company | None:
    """The other company already linked to `realm_id`, if any."""
    return db.scalars(
        select(Company).where(Company.realm_id == realm_id, Company.id != company_id)
    ).first()


def _already_connected(company_id: int, realm_id: str, other: Company) -> Response:
    log.warning(
        "company %s: realm %s already belongs to company %s; refused",
        company_id,
        realm_id,
        other.id,
    )
    return _fail(company_id, f"That QuickBooks company is already connected to {other.name}.", 409)


def switch_words(counts: SwitchImpact) -> list[str]:
    """What a switch does, one sentence per thing, with the company's counts."""
    return [
        f"Projects: {counts.projects_linked} linked to a customer of the current QuickBooks "
        "company lose that link (kept aside: switching back restores it); link them to "
        "customers of the new company.",
        f"Cost codes, vendors and employees: {counts.catalog_linked} connected to QuickBooks "
        "records lose that connection (kept aside the same way); import or connect them again.",
        f"Actuals: {counts.actuals} pulled from the current QuickBooks company are removed; "
        "the new company's are pulled in full on the next Sync.",
        f"Files: {counts.files_from_qbo} copied from QuickBooks are removed (switching back "
        f"downloads them again); {counts.files_added_here} added here stay.",
        f"Waiting pushes: {counts.waiting_pushes} not yet sent (or refused) are cancelled, "
        "as they were meant for the current QuickBooks company."
        + (
            f" {counts.pushes_in_flight} being sent right now must finish first."
            if counts.pushes_in_flight
            else ""
        ),
        "The current QuickBooks company stops trusting costbridge (its connection is revoked).",
    ]


def _switch_refusal(
    db: Session, company: Company, realm_id: str, *, allowed: bool
) -> Response | None:
    """Why the callback must not connect `company` to `realm_id`, if it must not.

    A company connected before keeps its realm unless the admin confirmed a switch; then the
    switch waits for pushes being sent.
    """
    if not company.realm_id or company.realm_id == realm_id:
        return None
    if not allowed:
        log.warning(
            "company %s: sign-in to realm %s refused, the company is on realm %s",
            company.id,
            realm_id,
            company.realm_id,
        )
        name = company.qbo_company_name or f"company id {company.realm_id}"
        return _fail(
            company.id,
            f"{company.name} is connected to the QuickBooks company {name}, and you signed in "
            "to another one; nothing changed. To move it to another QuickBooks company, use "
            "“Switch this company to another QuickBooks company” on its page.",
            409,
        )
    in_flight = impact(db, company).pushes_in_flight
    if in_flight:
        return _fail(
            company.id,
            f"{in_flight} change(s) of {company.name} are being sent to QuickBooks right now; "
            "nothing was switched. Wait a minute, then start the switch again.",
            409,
        )
    return None


def _resume_company(company_id: int) -> None:
    """Re-queue the company's pushes that waited for this connection.

    The connection is made either way: if Redis fails here the rows stay blocked for the
    sweeper to pick up, so the failure is only logged.
    """
    from core.push.queueing import resume_company

    try:
        queued = resume_company(_runtime(), company_id)
    except RedisError as exc:
        log.warning(
            "company %s: connected, but resuming its waiting pushes failed: %s",
            company_id,
            type(exc).__name__,
        )
        return
    if queued:
        log.info("company %s: %s waiting pushes queued again", company_id, queued)


def _fail(company_id: int, words: str, status: int) -> Response:
    return Response(f"{words}\n", status=status, mimetype="text/plain")


#: Module-level factory alias; call it once per app.
oauth_blueprint = make_oauth_blueprint
