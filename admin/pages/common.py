"""What every console page needs: the runtime, a database session, the QBO client, redirects."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import current_app
from flask import request
from sqlalchemy.orm import Session

from core.errors import CostbridgeError
from core.models import Company
from core.models import ConnectionStatus
from core.models import Project
from core.runtime import Runtime
from core.web.ids import required_id


def runtime() -> Runtime:
    """The app's runtime."""
    rt = current_app.extensions["costbridge"]
    assert isinstance(rt, Runtime)
    return rt


def db() -> Session:
    """The request's session (Flask-SQLAlchemy's; removed when the request ends)."""
    session: Session = current_app.extensions["sqlalchemy"].session()
    return session


def project_from_request(name: str = "project_id") -> Project:
    """The project named by the query or form value `name` (else `id`), or 404.

    A project of a company the user may not see is 404 too (`admin.scope`).
    """
    from admin.scope import may_see

    project = db().get(Project, required_id(request.values.get(name) or request.values.get("id")))
    if project is None or not may_see(project.company_id):
        abort(404, "There is no such project.")
    return project


def visible_row(model: Any, raw: str | None) -> Any:
    """The row of `model` named by the query or form value `raw`, if the user may see it; or 404.

    Unseen and missing rows answer the same, so a limited user cannot learn which ids exist.
    """
    from admin.scope import may_see
    from admin.scope import row_company_id

    row = db().get(model, required_id(raw))
    if row is None or not may_see(row_company_id(row)):
        abort(404)
    return row


def qbo_client(company: Company) -> Any:
    """A QBO client for a connected company, or a `CostbridgeError` saying how to connect."""
    if company.connection_status != ConnectionStatus.CONNECTED or not company.realm_id:
        raise CostbridgeError(
            f"{company.name} is not connected to QuickBooks.",
            fix="Open the company page and choose Connect to QuickBooks (or Reconnect).",
        )
    from core.qbo import client_for

    return client_for(runtime(), company.realm_id)


class PerProject:
    """Mixin: a page reached from a project (its links carry the project), not from the menu."""

    def is_visible(self) -> bool:
        """Kept out of the menu: without a project it has nothing to show."""
        return False
