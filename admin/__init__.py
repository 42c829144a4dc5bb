"""The Flask-Admin console: `init_admin(app, pm, db)` mounts it on a web app."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint
from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin.auth import LocalIndexView
from admin.views import model_views
from core.plugins import PluginManager
from core.plugins import call_each

log = logging.getLogger(__name__)


def init_admin(app: Flask, pm: PluginManager, db: Any) -> Admin:
    """Mount a new console on `app`: core views, then each plugin's `admin_views()`.

    Plugin views go under the "Plugins" menu with endpoints prefixed by the plugin name, so two
    plugins cannot collide. A plugin whose hook raises is logged and skipped.
    """
    # Our templates ride on a blueprint so they load from the installed package.
    app.register_blueprint(Blueprint("costbridge_admin", __name__, template_folder="templates"))
    admin = Admin(
        app, name="costbridge", index_view=LocalIndexView(), theme=Bootstrap4Theme(swatch="default")
    )
    admin.add_views(*model_views(db))
    for outcome in call_each(pm, "admin_views"):
        if outcome.error is not None:
            continue
        for view in outcome.result or ():
            view.category = "Plugins"
            view.endpoint = f"{outcome.plugin}_{view.endpoint}"
            view.url = view.url or f"/admin/plugins/{outcome.plugin}/{view.endpoint}"
            try:
                admin.add_view(view)
            except Exception:
                log.exception("costbridge plugin %s: admin view %r refused", outcome.plugin, view)
    return admin
