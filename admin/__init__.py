"""The Flask-Admin console: `init_admin(app, pm, db)` mounts it on a web app.

The core never imports this package: `core.app.create_app` finds `init_admin` through the
`costbridge.web` entry point (pyproject.toml) and calls it on every app it builds.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import redirect
from flask import url_for
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin.auth import init_auth
from admin.csp import use_csp_templates
from admin.pages.api_tokens import ApiTokensView
from admin.pages.budget import BudgetView
from admin.pages.companies import CatalogView
from admin.pages.companies import CompaniesView
from admin.pages.documents import BillsView
from admin.pages.documents import InvoicesView
from admin.pages.documents import TimeView
from admin.pages.files import FilesView
from admin.pages.home import HomeView
from admin.pages.queue import OutboxView
from admin.pages.queue import QueueView
from admin.pages.queue import SyncLogView
from admin.scope import of_visible
from admin.views import model_views
from core.models import Company
from core.models import ConnectionStatus
from core.plugins import PluginManager
from core.plugins import call_each
from core.web.ids import use_ids

log = logging.getLogger(__name__)


def init_admin(app: Flask, pm: PluginManager, db: Any) -> Admin:
    """Mount a new console on `app`: sign-in, core views, then each plugin's `admin_views()`.

    Plugin views go under the "Plugins" menu with endpoints prefixed by the plugin name, so two
    plugins cannot collide. A plugin whose hook raises is logged and skipped.
    """
    # Our templates and static files ride on a blueprint so they load from the installed package.
    app.register_blueprint(
        Blueprint(
            "costbridge_admin",
            __name__,
            template_folder="templates",
            static_folder="static",
            static_url_path="/console-static",
        )
    )
    # Flask-Admin's templates without inline handlers (strict CSP), before any is compiled.
    use_csp_templates(app.jinja_env)
    init_auth(app)
    use_ids(app)  # `<id:...>` URL parts, for plugin views too
    admin = Admin(
        app,
        name="costbridge",
        index_view=HomeView(name="Home"),
        theme=Bootstrap4Theme(swatch="default", base_template="costbridge/base.html"),
    )
    companies = CompaniesView(name="Company", endpoint="companies", category="Setup")
    admin.add_view(companies)
    admin.add_view(
        CatalogView(name="Cost codes & people", endpoint="catalog", category="Setup", url=None)
    )
    admin.add_views(*model_views(db))
    admin.add_view(BudgetView(name="Budget", endpoint="budget", category="Projects"))
    admin.add_view(FilesView(name="Files", endpoint="files", category="Projects"))
    admin.add_view(BillsView(name="Bills", endpoint="bills", category="Projects"))
    admin.add_view(InvoicesView(name="Invoices", endpoint="invoices", category="Projects"))
    admin.add_view(TimeView(name="Time", endpoint="time", category="Projects"))
    admin.add_view(QueueView(name="Queue", endpoint="queue", category="Support"))
    admin.add_view(SyncLogView(name="Sync log", endpoint="synclog", category="Support"))
    admin.add_view(OutboxView(name="Waiting pushes", endpoint="pushes", category="Support"))
    admin.add_view(
        ApiTokensView(name="API tokens", endpoint="api_tokens", category="Setup", url="api-tokens")
    )
    # The OAuth blueprint renders its status page through the console's company page.
    app.config.setdefault("QBO_STATUS_PAGE", companies.page)
    app.config.setdefault("QBO_SWITCH_PAGE", companies.switch_page)

    @app.get("/")
    def index() -> Response:
        return redirect(url_for("admin.index"))

    @app.context_processor
    def banner() -> dict[str, Any]:
        def reconnect_needed() -> list[Company]:
            return list(
                db.session.scalars(
                    of_visible(
                        select(Company).where(
                            Company.connection_status == ConnectionStatus.RECONNECT_NEEDED
                        ),
                        Company,
                    )
                )
            )

        return {"cb_reconnect_needed": reconnect_needed}

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
