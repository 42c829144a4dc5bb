"""Web endpoints outside the admin console: the QBO OAuth flow, the webhook receiver, the API."""

from __future__ import annotations

from flask import Flask
from flask_wtf import CSRFProtect

from core.web.api import init_api
from core.web.ids import use_ids
from core.web.oauth import make_oauth_blueprint
from core.web.webhooks import make_webhooks_blueprint


def register_blueprints(app: Flask, csrf: CSRFProtect) -> None:
    """Register the OAuth connect flow, the webhook receiver and the read API on `app`.

    The webhook is exempt from CSRF: Intuit cannot send our token, and the `intuit-signature`
    HMAC is its check. The API (`core.web.api`) only reads and takes no cookie, so it needs no
    CSRF token either. Ids in their URLs are `<id:...>` parts (`core.web.ids`).
    """
    use_ids(app)
    app.register_blueprint(make_oauth_blueprint())
    webhooks = make_webhooks_blueprint()
    app.register_blueprint(webhooks)
    csrf.exempt(webhooks)
    init_api(app)
