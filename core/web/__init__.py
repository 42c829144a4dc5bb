"""Web endpoints outside the admin console: the QBO OAuth flow and the webhook receiver."""

from __future__ import annotations

from flask import Flask
from flask_wtf import CSRFProtect

from core.web.ids import use_ids
from core.web.oauth import make_oauth_blueprint
from core.web.webhooks import make_webhooks_blueprint


def register_blueprints(app: Flask, csrf: CSRFProtect) -> None:
    """Register the OAuth connect flow and the webhook receiver on `app`.

    The webhook is exempt from CSRF: Intuit cannot send our token, and the `intuit-signature`
    HMAC is its check. Ids in their URLs are `<id:...>` parts (`core.web.ids`).
    """
    use_ids(app)
    app.register_blueprint(make_oauth_blueprint())
    webhooks = make_webhooks_blueprint()
    app.register_blueprint(webhooks)
    csrf.exempt(webhooks)
