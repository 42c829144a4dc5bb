"""Plain CRUD views of the models (the full console comes later)."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import request
from flask import url_for
from flask_admin import expose
from markupsafe import Markup

from admin import settings_form
from admin.auth import SecureModelView
from core.models import Actual
from core.models import Attachment
from core.models import Bill
from core.models import BudgetLine
from core.models import Company
from core.models import CostCode
from core.models import Employee
from core.models import Invoice
from core.models import OutboxEntry
from core.models import Project
from core.models import RemoteMapping
from core.models import SyncCursor
from core.models import SyncRun
from core.models import TimeEntry
from core.models import Vendor

TOKEN_COLUMNS = ("access_token_enc", "refresh_token_enc")
# Written only by the connect flow (core/web/oauth.py): shown, never editable by hand, so a
# form post cannot point a company at another QuickBooks company or fake its status.
CONNECTION_COLUMNS = ("realm_id", "connection_status", "connection_problem", "qbo_company_name")


class CompanyView(SecureModelView):
    """Companies; token columns are never shown, connection columns never edited by hand."""

    column_exclude_list = TOKEN_COLUMNS
    column_details_exclude_list = TOKEN_COLUMNS
    column_export_exclude_list = TOKEN_COLUMNS
    form_excluded_columns = (
        *TOKEN_COLUMNS,
        *CONNECTION_COLUMNS,
        "token_version",
        "access_expires_at",
        "refresh_expires_at",
        "connected_at",
        "created_at",
        "updated_at",
    )
    column_searchable_list = ("name", "realm_id")
    column_list = (
        "name",
        "realm_id",
        "qbo_company_name",
        "connection_status",
        "connection_problem",
    )
    column_labels = {"connection_status": "QuickBooks", "connection_problem": "Needs attention"}
    column_formatters = {
        "connection_status": lambda view, context, model, name: Markup(
            '{} · <a href="{}">{}</a>'
        ).format(
            model.connection_status.value.replace("_", " "),
            url_for("qbo_oauth.status", company_id=model.id),
            "Connect to QuickBooks" if model.connection_status.value != "connected" else "Manage",
        ),
    }


class ProjectAdmin(SecureModelView):
    """Projects, their QBO link and their integration settings page."""

    column_formatters = {
        "name": lambda view, context, model, name: Markup('{} <a href="{}">settings</a>').format(
            model.name, url_for(".settings_view", id=model.id)
        ),
    }

    column_list = ("name", "number", "company", "qbo_customer_name", "qbo_customer_id")
    column_searchable_list = ("name", "number", "qbo_customer_name")
    # Integration settings are edited through the plugin-built settings form, never as raw JSON.
    form_excluded_columns = ("created_at", "updated_at", "settings", "enabled_plugins")

    @expose("/settings/", methods=("GET", "POST"))
    def settings_view(self) -> Any:
        """The plugin-built settings form of one project."""
        session = self.session.session  # the view holds the Flask-SQLAlchemy extension
        project = session.get(Project, request.args.get("id", type=int))
        if project is None:
            abort(404)
        return self.render("admin/project_settings.html", **settings_form.handle(session, project))


class ReadOnlyView(SecureModelView):
    """Ledger rows written by sync jobs: looked at, never edited by hand."""

    can_create = False
    can_edit = False
    can_delete = False


class ActualView(ReadOnlyView):
    """Actuals pulled from QBO."""

    column_filters = ("project_id", "actual_type", "billable_status", "txn_date")
    column_default_sort = ("txn_date", True)


class SyncRunView(ReadOnlyView):
    """The sync log."""

    column_filters = ("kind", "state", "project_id", "company_id")
    column_default_sort = ("queued_at", True)


def model_views(db: Any) -> list[SecureModelView]:
    """New view instances for one app (Flask-Admin views are bound to their app)."""
    setup = "Setup"
    docs = "Documents"
    ledger = "Sync"
    return [
        CompanyView(Company, db, category=setup),
        ProjectAdmin(Project, db, category=setup),
        SecureModelView(CostCode, db, category=setup),
        SecureModelView(Vendor, db, category=setup),
        SecureModelView(Employee, db, category=setup),
        SecureModelView(BudgetLine, db, category=docs),
        SecureModelView(Bill, db, category=docs),
        SecureModelView(Invoice, db, category=docs),
        SecureModelView(TimeEntry, db, category=docs),
        ReadOnlyView(Attachment, db, category=docs),
        ActualView(Actual, db, category=ledger),
        SyncRunView(SyncRun, db, category=ledger),
        ReadOnlyView(OutboxEntry, db, category=ledger, name="Outbox"),
        ReadOnlyView(RemoteMapping, db, category=ledger, name="Remote ids"),
        ReadOnlyView(SyncCursor, db, category=ledger, name="Cursors"),
    ]
