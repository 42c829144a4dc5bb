"""Model views: companies, projects (with their Financials page), cost codes and the ledgers."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import expose
from markupsafe import Markup
from sqlalchemy import JSON
from sqlalchemy import select
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from admin import settings_form
from admin import tracking_form
from admin.auth import SecureModelView
from admin.auth import actor
from admin.auth import has_role
from admin.auth import require
from admin.pages.common import qbo_client
from admin.pages.common import runtime
from admin.scope import may_see
from core.errors import CostbridgeError
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
from core.models import Role
from core.models import SyncCursor
from core.models import SyncRun
from core.models import TimeEntry
from core.models import Vendor
from core.money import parse_amount
from core.project_settings import set_plugin_enabled
from core.projects import customer_choices
from core.projects import link_project
from core.projects import resolve_customer
from core.sync.apply import reapply_project
from core.web.ids import required_id

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
            url_for("companies.details", id=model.id),
            "Connect to QuickBooks" if model.connection_status.value != "connected" else "Manage",
        ),
    }


class ProjectAdmin(SecureModelView):
    """Projects, and each one's Financials page: QuickBooks link, plugins, integration settings."""

    column_formatters = {
        "name": lambda view, context, model, name: Markup(
            '{} <a href="{}">financials</a> · <a href="{}">budget</a>'
        ).format(
            model.name,
            url_for(".settings_view", id=model.id),
            url_for("budget.index", project_id=model.id),
        ),
    }

    column_list = ("name", "number", "company", "qbo_customer_name", "qbo_customer_id")
    column_labels = {"qbo_customer_name": "QuickBooks customer", "qbo_customer_id": "QBO id"}
    column_searchable_list = ("name", "number", "qbo_customer_name")
    # The company drop-down names each company (not its repr); `admin.scope` limits its rows.
    form_args = {"company": {"get_label": "name"}}
    # The QBO link goes through Connect Project (core.projects.link_project), and settings
    # through the plugin-built form, never as raw values.
    form_excluded_columns = (
        "created_at",
        "updated_at",
        "settings",
        "enabled_plugins",
        "qbo_customer_id",
        "qbo_customer_name",
        "qbo_class_id",
        "qbo_location_id",
    )

    def _project(self) -> Project:
        session = self.session.session  # the view holds the Flask-SQLAlchemy extension
        project = session.get(Project, required_id(request.args.get("id")))
        if not isinstance(project, Project) or not may_see(project.company_id):
            abort(404)
        return project

    @expose("/settings/", methods=("GET", "POST"))
    def settings_view(self) -> Any:
        """Project Details - Financials: Connect to QuickBooks, plugins, the toggles."""
        if request.method == "POST" and not has_role(Role.ADMIN):
            abort(403, "Only an admin changes a project's integration settings.")
        session = self.session.session
        project = self._project()
        context = settings_form.handle(session, project, actor())
        rt = runtime()
        company = session.get(Company, project.company_id)
        choices: list[Any] = []
        choice_problem = None
        if company is not None and request.method == "GET":
            try:
                choices = customer_choices(qbo_client(company))
            except CostbridgeError as exc:
                choice_problem = f"{exc.message} {exc.fix}"
            except Exception as exc:  # noqa: BLE001 - QBO unreachable: say so, keep the page
                choice_problem = f"QuickBooks did not answer ({type(exc).__name__}); try again."
        tracking_problem = (
            tracking_form.refreshed(session, company) if request.method == "GET" else None
        )
        enabled = set(project.enabled_plugin_names(rt.pm.names()))
        plugins = [
            (name, info.label, name in enabled) for name, info in sorted(rt.pm.infos.items())
        ]
        return self.render(
            "admin/project_settings.html",
            company=company,
            choices=choices,
            choice_problem=choice_problem,
            plugins=plugins,
            tracking_problem=tracking_problem,
            **tracking_form.context(session, project),
            **context,
        )

    @expose("/tracking/", methods=("POST",))
    @require(Role.ADMIN)
    def tracking_view(self) -> Any:
        """The project's default QuickBooks class and location, picked in the drop-downs."""
        project = self._project()
        tracking_form.save(self.session.session, project, actor())
        return redirect(url_for(".settings_view", id=project.id))

    @expose("/link/", methods=("POST",))
    @require(Role.ADMIN)
    def link_view(self) -> Any:
        """Connect Project: link to the QBO customer chosen in the drop-down."""
        session = self.session.session
        project = self._project()
        company = session.get(Company, project.company_id)
        assert company is not None
        try:
            choice = resolve_customer(
                customer_choices(qbo_client(company)), request.form.get("customer_id", "")
            )
            done = link_project(session, runtime().pm, project, choice)
        except CostbridgeError as exc:
            session.rollback()
            flash(f"{exc.message} {exc.fix}", "error")
            return redirect(url_for(".settings_view", id=project.id))
        session.commit()
        flash(
            f"Connected to {choice.full_name}: {done.lines} stored QuickBooks line(s) "
            "re-applied. Use Sync Expenses on the budget to pull anything new.",
            "success",
        )
        return redirect(url_for(".settings_view", id=project.id))

    @expose("/plugins/", methods=("POST",))
    @require(Role.ADMIN)
    def plugins_view(self) -> Any:
        """Turn plugins on or off for the project (recorded in its setting history)."""
        session = self.session.session
        project = self._project()
        pm = runtime().pm
        wanted = set(request.form.getlist("plugin"))
        changed = [
            name
            for name in sorted(pm.infos)
            if set_plugin_enabled(session, project, name, name in wanted, changed_by=actor())
        ]
        if changed:
            reapply_project(session, pm, project)
        session.commit()
        flash(
            f"Plugins changed: {', '.join(changed)}." if changed else "No plugin changed.",
            "success",
        )
        return redirect(url_for(".settings_view", id=project.id))


class AmountField(StringField):
    """An amount or rate typed in a model form, read by `core.money.parse_amount` (blank: none)."""

    def __init__(self, label: str, *, places: int = 2, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.places = places
        # The column's digits before the point: money keeps 12, a rate (4 places) 8.
        self.digits = 12 if places == 2 else 8

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read what was typed; a wrong amount is the field's error, in words."""
        raw = str(valuelist[0]) if valuelist else ""
        self.data = None
        if raw.strip():
            try:
                self.data = parse_amount(
                    raw, str(self.label.text), places=self.places, digits=self.digits
                )
            except CostbridgeError as exc:
                raise ValueError(f"{exc.message} {exc.fix}") from None

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class OfCompanyView(SecureModelView):
    """A company's cost codes, vendors or employees, entered here before (or without) QuickBooks.

    The form's Company drop-down lists the companies the user may see (`core.scope`); a record
    stays in the company it was made in (edits do not offer it). The QuickBooks link is made on
    the company's Cost codes page, which checks it with QuickBooks, never typed here.
    """

    #: The columns the form offers after Company, in order.
    form_fields: tuple[str, ...] = ("name",)
    #: Columns whose value must be unique within a company, with how the error names them.
    unique_in_company: tuple[tuple[str, str], ...] = ()
    #: Amount columns, with their label and decimals.
    amount_fields: tuple[tuple[str, str, int], ...] = ()

    def __init__(self, model: Any, session: Any, **kwargs: Any) -> None:
        self.form_columns = ("company_id", *self.form_fields)
        self.form_extra_fields = {
            "company_id": SelectField("Company", coerce=int, validators=[InputRequired()]),
            **{
                name: AmountField(label, places=places, validators=[Optional()])
                for name, label, places in self.amount_fields
            },
        }
        super().__init__(model, session, **kwargs)

    def _companies(self) -> list[tuple[int, str]]:
        """The companies the user may see (`admin.scope`), by name."""
        from admin.scope import of_visible

        query = of_visible(select(Company).order_by(Company.name, Company.id), Company)
        return [(company.id, company.name) for company in self.session.session.scalars(query)]

    def create_form(self, obj: Any = None) -> Any:
        """The new-record form, its Company drop-down filled."""
        form = super().create_form(obj)
        form.company_id.choices = self._companies()
        return form

    def edit_form(self, obj: Any = None) -> Any:
        """The edit form: a record keeps its company."""
        form = super().edit_form(obj)
        del form.company_id
        return form

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        """Refuse, in words, a value the company already uses (before the database does)."""
        session = self.session.session
        for column, label in self.unique_in_company:
            value = getattr(model, column)
            with session.no_autoflush:  # the new row itself is not flushed (nor found) yet
                taken = session.scalar(
                    select(type(model).id).where(
                        type(model).company_id == model.company_id,
                        getattr(type(model), column) == value,
                        type(model).id != (model.id or 0),
                    )
                )
            if taken is not None:
                raise ValidationError(
                    f"The company already has a {label} “{value}”; choose another."
                )
        super().on_model_change(form, model, is_created)


class CostCodeForm(OfCompanyView):
    """Cost codes as an admin enters them: company, code, name, active."""

    form_fields = ("code", "name", "active")
    unique_in_company = (("code", "cost code"),)


class VendorView(OfCompanyView):
    """Vendors; imported from QuickBooks or entered here, then connected on the Cost codes page."""

    column_list = ("name", "company_id", "qbo_vendor_id")
    column_labels = {"company_id": "Company", "qbo_vendor_id": "QuickBooks id"}
    column_searchable_list = ("name",)


class EmployeeView(OfCompanyView):
    """Employees, with the cost rate their time is costed at."""

    form_fields = ("name", "cost_rate")
    amount_fields = (("cost_rate", "Cost rate (per hour)", 4),)
    column_list = ("name", "company_id", "cost_rate", "qbo_employee_id")
    column_labels = {"company_id": "Company", "qbo_employee_id": "QuickBooks id"}
    column_searchable_list = ("name",)


def _usability(view: Any, context: Any, model: CostCode, name: str) -> Any:
    problem = model.usability_problem()
    if problem is None:
        return Markup('<span class="text-success">ready</span>')
    return Markup('<span class="text-danger cb-code-warning">⚠ {}</span>').format(problem)


def _yes_no(attr: str, label: str) -> Any:
    def fmt(view: Any, context: Any, model: CostCode, name: str) -> Any:
        if getattr(model, attr):
            return Markup("✓")
        return Markup(
            '<span class="text-danger" title="Turn on “{}” in QuickBooks">✗</span>'
        ).format(label)

    return fmt


class CostCodeView(CostCodeForm):
    """Cost codes: the QBO item, its GL accounts, "I sell"/"I purchase" and what is missing."""

    column_list = (
        "code",
        "name",
        "qbo_item_name",
        "income_account_name",
        "expense_account_name",
        "sells",
        "purchases",
        "active",
        "usable",
    )
    column_labels = {
        "qbo_item_name": "QuickBooks item",
        "income_account_name": "Income account",
        "expense_account_name": "Expense account",
        "sells": "I sell",
        "purchases": "I purchase",
        "usable": "Can sync",
    }
    column_formatters = {
        "usable": _usability,
        "sells": _yes_no("sells", "I sell this product/service to my customers"),
        "purchases": _yes_no("purchases", "I purchase this product/service from a vendor"),
    }
    column_searchable_list = ("code", "name", "qbo_item_name")
    column_default_sort = "code"


class ReadOnlyView(SecureModelView):
    """Ledger rows written by sync jobs: looked at, never edited by hand."""

    can_create = False
    can_edit = False
    can_delete = False

    def scaffold_sortable_columns(self) -> dict[Any, Any]:
        """Every column but JSON ones (PostgreSQL cannot order by `json`: a 500 before)."""
        return {
            name: column
            for name, column in super().scaffold_sortable_columns().items()
            if not isinstance(getattr(column, "type", None), JSON)
        }


class ActualView(ReadOnlyView):
    """Actuals pulled from QBO."""

    column_filters = ("project_id", "actual_type", "billable_status", "txn_date")
    column_default_sort = ("txn_date", True)


class SyncRunView(ReadOnlyView):
    """The sync log, as rows."""

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
        CostCodeView(CostCode, db, category=setup, name="Cost codes"),
        VendorView(Vendor, db, category=setup),
        EmployeeView(Employee, db, category=setup),
        # Entered on the project's Budget page (grid or CSV import), which keeps each change in
        # the project's history (core.budgets): a plain form would bypass it.
        ReadOnlyView(BudgetLine, db, category=docs, name="Budget lines"),
        # Read here; created and changed on the project's Bills, Invoices and Time pages, which
        # record each push (core.push.records): a plain form would bypass the outbox.
        ReadOnlyView(Bill, db, category=docs),
        ReadOnlyView(Invoice, db, category=docs),
        ReadOnlyView(TimeEntry, db, category=docs),
        ReadOnlyView(Attachment, db, category=docs),
        ActualView(Actual, db, category=ledger),
        SyncRunView(SyncRun, db, category=ledger, name="Sync runs"),
        ReadOnlyView(OutboxEntry, db, category=ledger, name="Outbox"),
        ReadOnlyView(RemoteMapping, db, category=ledger, name="Remote ids"),
        ReadOnlyView(SyncCursor, db, category=ledger, name="Cursors"),
    ]
