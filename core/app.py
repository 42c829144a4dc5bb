"""The Flask application factory: web app, OAuth callback, webhook, and the mounted extensions.

The core does not import its console. The admin console (`admin/`) mounts itself through the
`costbridge.web` entry-point group, declared in pyproject.toml like the plugins:

    [project.entry-points."costbridge.web"]
    console = "admin:init_admin"

`create_app` calls each entry point's object as `mount(app, pm, db)` (a `WebExtension`), by
name order, before the core's blueprints, while the app has served nothing yet (Flask refuses
new blueprints afterwards). An extension that fails to load stops the app: a web app without the
console it was installed with is a broken deployment, not a degraded one.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Mapping
from typing import Any
from typing import Protocol

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from core.config import Settings
from core.crypto import install_log_scrubber
from core.db import Base
from core.plugins import PluginManager
from core.runtime import Runtime
from core.web import register_blueprints
from core.web.access import LOOPBACK_HOSTS
from core.web.hardening import init_hardening
from core.web.health import init_ops
from core.web.limits import REQUEST_LIMITS
from core.web.limits import init_limits
from core.web.limits import trust_proxies

__all__ = ["WEB_EXTENSIONS", "WebExtension", "create_app", "mount_extensions"]

#: The entry-point group whose objects `create_app` mounts on every app (the console is one).
WEB_EXTENSIONS = "costbridge.web"

log = logging.getLogger(__name__)


class WebExtension(Protocol):
    """What a `costbridge.web` entry point names: a callable that mounts views on a new app."""

    def __call__(self, app: Flask, pm: PluginManager, db: SQLAlchemy) -> object:
        """Register blueprints, views and hooks on `app`; called once, before it serves."""


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
        # Body, form part and part-count limits (core/web/limits.py).
        **REQUEST_LIMITS,
        # DNS rebinding: only loopback names may reach the console; any other Host gets 400
        # (core/web/access.py). A deployment behind a public name overrides this.
        TRUSTED_HOSTS=[*LOOPBACK_HOSTS, *settings.public_hosts],
    )
    app.config.update({k: v for k, v in overrides.items() if k.isupper()})
    app.extensions["costbridge"] = runtime

    db = SQLAlchemy(app, model_class=Base)
    csrf = CSRFProtect(app)

    mount_extensions(app, runtime.pm, db)
    register_blueprints(app, csrf)
    init_ops(app)
    init_hardening(app)
    init_limits(app)
    # Behind COSTBRIDGE_TRUSTED_PROXIES reverse proxies: the client's address and scheme.
    trust_proxies(app, settings.trusted_proxies)
    return app


def mount_extensions(app: Flask, pm: PluginManager, db: SQLAlchemy) -> list[str]:
    """Mount every installed `costbridge.web` extension on `app`; the names mounted, in order.

    Raises:
        Exception: Whatever an extension raised while loading or mounting, with a note naming it.
    """
    found = sorted(importlib.metadata.entry_points(group=WEB_EXTENSIONS), key=lambda ep: ep.name)
    if not found:
        log.warning(
            "no %s entry point is installed, so the web app has no console: install costbridge "
            "(pip install -e .) rather than running it from a bare checkout",
            WEB_EXTENSIONS,
        )
    for ep in found:
        try:
            mount: WebExtension = ep.load()
            mount(app, pm, db)
        except Exception as exc:
            exc.add_note(f"costbridge: the web extension {ep.name!r} ({ep.value}) failed to mount")
            raise
    return [ep.name for ep in found]
