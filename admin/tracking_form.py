"""The project page's QuickBooks class and location defaults (drop-downs filled from QBO)."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask import request
from sqlalchemy.orm import Session

from admin.pages.common import qbo_client
from core import tracking
from core.errors import CostbridgeError
from core.models import Company
from core.models import Project


def refreshed(session: Session, company: Company | None) -> str | None:
    """Copy the company's classes and locations from QBO afresh; why not, in words, or None."""
    if company is None or not company.realm_id:
        return "Connect the company to QuickBooks to choose a class and a location."
    try:
        tracking.refresh(session, qbo_client(company), company.id)
    except CostbridgeError as exc:
        session.rollback()
        return f"{exc.message} {exc.fix}".strip()
    except Exception as exc:  # noqa: BLE001 - QBO unreachable: say so, keep the page
        session.rollback()
        return f"QuickBooks did not answer ({type(exc).__name__}); the lists may be out of date."
    session.commit()
    return None


def context(session: Session, project: Project) -> dict[str, Any]:
    """The drop-downs' choices and the current defaults, for the template."""
    return {
        "classes": tracking.choices(session, project.company_id, "class"),
        "locations": tracking.choices(session, project.company_id, "location"),
    }


def save(session: Session, project: Project, changed_by: str) -> None:
    """Store the class and location picked (empty: none), or say why not."""
    wanted = {
        "class": request.form.get("qbo_class_id", "").strip() or None,
        "location": request.form.get("qbo_location_id", "").strip() or None,
    }
    try:
        changed = tracking.set_project_defaults(session, project, wanted, changed_by=changed_by)
    except CostbridgeError as exc:
        session.rollback()
        flash(f"{exc.message} {exc.fix}".strip(), "error")
        return
    session.commit()
    flash("Class and location saved." if changed else "Class and location unchanged.", "success")
