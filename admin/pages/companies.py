"""Company Settings - Integrations: the QuickBooks connection inside the console."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import expose
from sqlalchemy import select

from admin.auth import LocalBaseView
from admin.auth import require
from admin.pages.common import db
from admin.pages.common import qbo_client
from admin.scope import may_see
from admin.scope import of_visible
from admin.scope import require_unlimited
from admin.scope import visible
from core import catalog_connect
from core import catalog_import
from core.errors import CostbridgeError
from core.models import Company
from core.models import CostCode
from core.models import Employee
from core.models import Role
from core.models import Vendor
from core.projects import create_company
from core.realm_switch import impact
from core.web.ids import optional_id
from core.web.ids import required_id
from core.web.oauth import switch_words

STATUS_WORDS = {
    "connected": "Connected",
    "disconnected": "Not connected",
    "reconnect_needed": "Reconnect needed",
}


class CompaniesView(LocalBaseView):
    """Each company's QuickBooks connection: status, QBO company name, connect, disconnect."""

    @expose("/")
    def index(self) -> Any:
        """Every company with its connection."""
        companies = db().scalars(of_visible(select(Company).order_by(Company.name), Company)).all()
        return self.render(
            "costbridge/companies.html",
            companies=companies,
            words=STATUS_WORDS,
            limited=visible() is not None,
        )

    @expose("/create", methods=("POST",))
    @require(Role.ADMIN)
    def create(self) -> Any:
        """Add a company (connected afterwards through QuickBooks' consent page).

        Only an admin of every company adds one (a limited admin would not see it).
        """
        require_unlimited()
        session = db()
        try:
            company = create_company(session, request.form.get("name", ""))
        except CostbridgeError as exc:
            flash(f"{exc.message} {exc.fix}", "error")
            return redirect(url_for(".index"))
        session.commit()
        return redirect(url_for(".details", id=company.id))

    @expose("/company")
    def details(self) -> Any:
        """One company's connection page (also shown after the QuickBooks consent page)."""
        return self.page(required_id(request.args.get("id")), "")

    def page(self, company_id: int, message: str) -> Any:
        """Render the connection page of `company_id` with an optional status message."""
        company = db().get(Company, company_id)
        if company is None or not may_see(company.id):
            abort(404)
        return self.render(
            "costbridge/company.html",
            company=company,
            message=message,
            status_words=STATUS_WORDS.get(company.connection_status.value, "Unknown"),
        )

    def switch_page(self, company_id: int) -> Any:
        """ "Switch this company to another QuickBooks company": what it does, and the button."""
        session = db()
        company = session.get(Company, company_id)
        if company is None:
            abort(404)
        return self.render(
            "costbridge/company_switch.html",
            company=company,
            lines=switch_words(impact(session, company)),
        )


IMPORTS = {
    "cost_codes": ("import_cost_codes", "Products & Services"),
    "vendors": ("import_vendors", "vendors"),
    "employees": ("import_employees", "employees"),
}
CONNECTS: dict[str, tuple[Any, str, str]] = {
    "cost_code": (CostCode, "Item", "connect_cost_code"),
    "vendor": (Vendor, "Vendor", "connect_vendor"),
    "employee": (Employee, "Employee", "connect_employee"),
}


class CatalogView(LocalBaseView):
    """Company Settings - Cost codes, vendors, employees: import in bulk, connect one by one."""

    def _company(self) -> Company:
        wanted = optional_id(request.values.get("id"))
        session = db()
        company = (
            session.get(Company, wanted)
            if wanted
            else session.scalars(
                of_visible(select(Company).order_by(Company.id).limit(1), Company)
            ).first()
        )
        if company is None or not may_see(company.id):
            abort(404, "There is no such company; add one on the Company page.")
        return company

    @expose("/")
    def index(self) -> Any:
        """Local cost codes, vendors and employees, each with a QuickBooks drop-down."""
        session = db()
        company = self._company()
        options: dict[str, list[tuple[str, str]]] = {}
        problem = None
        try:
            client = qbo_client(company)
            for kind, (_model, entity, _fn) in CONNECTS.items():
                options[kind] = catalog_connect.choices(client, entity)
        except CostbridgeError as exc:
            problem = f"{exc.message} {exc.fix}"
        lists = {
            kind: session.scalars(
                select(model).where(model.company_id == company.id).order_by(model.name)
            ).all()
            for kind, (model, _entity, _fn) in CONNECTS.items()
        }
        return self.render(
            "costbridge/catalog.html",
            company=company,
            lists=lists,
            options=options,
            problem=problem,
        )

    @expose("/import", methods=("POST",))
    @require(Role.ADMIN)
    def import_view(self) -> Any:
        """Import QuickBooks Products & Services, vendors or employees in bulk."""
        session = db()
        company = self._company()
        what = request.form.get("what", "")
        if what not in IMPORTS:
            abort(400)
        function, words = IMPORTS[what]
        try:
            report = getattr(catalog_import, function)(session, qbo_client(company), company.id)
        except CostbridgeError as exc:
            session.rollback()
            flash(f"{exc.message} {exc.fix}", "error")
            return redirect(url_for(".index", id=company.id))
        session.commit()
        flagged = "; ".join(f"{code}: {why}" for code, why in sorted(report.flagged.items()))
        flash(
            f"Imported {words}: {report.added} added, {report.connected} connected, "
            f"{report.updated} updated." + (f" Needs attention: {flagged}." if flagged else ""),
            "success",
        )
        return redirect(url_for(".index", id=company.id))

    @expose("/connect", methods=("POST",))
    @require(Role.ADMIN)
    def connect(self) -> Any:
        """Connect one cost code, vendor or employee to the QuickBooks record chosen."""
        session = db()
        company = self._company()
        kind = request.form.get("kind", "")
        if kind not in CONNECTS:
            abort(400)
        model, _entity, function = CONNECTS[kind]
        row = session.get(model, required_id(request.form.get("local_id")))
        if row is None or row.company_id != company.id:
            abort(404)
        try:
            getattr(catalog_connect, function)(
                session, qbo_client(company), row, request.form.get("qbo_id", "")
            )
        except CostbridgeError as exc:
            session.rollback()
            flash(f"{exc.message} {exc.fix}", "error")
        else:
            session.commit()
            flash(f"{row.name} connected to QuickBooks.", "success")
        return redirect(url_for(".index", id=company.id))
