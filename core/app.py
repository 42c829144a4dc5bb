"""The Flask application factory: web app, admin console, OAuth callback and webhook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask import redirect
from flask import url_for
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from werkzeug.wrappers import Response

from core.config import Settings
from core.crypto import install_log_scrubber
from core.db import Base
from core.runtime import Runtime
from core.web import register_blueprints
from core.web.access import LOOPBACK_HOSTS
from core.web.hardening import init_hardening
from core.web.health import init_ops


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build a new costbridge web app; nothing is created at import time.

    Args:
        overrides: Settings fields (lower case, e.g. `database_url`) and Flask config keys
            (upper case, e.g. `TESTING`, or `TRUSTED_HOSTS` to serve the app under a public
            name) that replace what the environment says; a `runtime` key hands in a ready
            `Runtime` (tests share theirs this way).

    Returns:
        The app, with `app.extensions["costbridge"]` holding its `Runtime`.
    """
    install_log_scrubber()
    overrides = dict(overrides or {})
    runtime: Runtime | None = overrides.pop("runtime", None)
    settings = runtime.settings if runtime else Settings.from_env().with_overrides(overrides)
    runtime = runtime or Runtime.build(settings)

    app = Flask("costbridge", instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True}
        if settings.database_url.startswith("postgresql")
        else {},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Production cookies go over HTTPS only (ASVS 3.3.1); init_auth then names them __Host-.
        SESSION_COOKIE_SECURE=settings.env == "production",
        MAX_CONTENT_LENGTH=110 * 1024 * 1024,
        # DNS rebinding: only loopback names may reach the console; any other Host gets 400
        # (core/web/access.py). A deployment behind a public name overrides this.
        TRUSTED_HOSTS=[*LOOPBACK_HOSTS, *settings.public_hosts],
    )
    app.config.update({k: v for k, v in overrides.items() if k.isupper()})
    app.extensions["costbridge"] = runtime

    db = SQLAlchemy(app, model_class=Base)
    csrf = CSRFProtect(app)

    from admin import init_admin

    init_admin(app, runtime.pm, db)
    register_blueprints(app, csrf)
    init_ops(app)
    init_hardening(app)

    @app.get("/")
    def index() -> Response:
        return redirect(url_for("admin.index"))

    return app


def runtime_of(app: Flask) -> Runtime:
    """The runtime an app was built with."""
    rt = app.extensions["costbridge"]
    assert isinstance(rt, Runtime)
    return rt
