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
from core.errors import CostbridgeError
from core.models import Company
from core.models import Role
from core.projects import create_company

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
        companies = db().scalars(select(Company).order_by(Company.name)).all()
        return self.render("costbridge/companies.html", companies=companies, words=STATUS_WORDS)

    @expose("/create", methods=("POST",))
    @require(Role.ADMIN)
    def create(self) -> Any:
        """Add a company (connected afterwards through QuickBooks' consent page)."""
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
        return self.page(request.args.get("id", type=int) or 0, "")

    def page(self, company_id: int, message: str) -> Any:
        """Render the connection page of `company_id` with an optional status message."""
        company = db().get(Company, company_id)
        if company is None:
            abort(404)
        return self.render(
            "costbridge/company.html",
            company=company,
            message=message,
            status_words=STATUS_WORDS.get(company.connection_status.value, "Unknown"),
        )
