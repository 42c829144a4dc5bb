"""Every new/edit form the console offers saves; the others are not offered."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select

from core.models import Company
from core.models import CostCode
from core.models import Employee
from core.models import Project
from core.models import Vendor
from tests.factories import make_company

#: endpoint -> (model, fields to create with, fields to change on edit)
FORMS = {
    "company": (Company, {"name": "Harbor Builders"}, {"name": "Harbor Builders Inc"}),
    "project": (Project, {"name": "Pier 9 Retrofit"}, {"name": "Pier 9 Seismic Retrofit"}),
    "costcode": (
        CostCode,
        {"code": "02-200", "name": "Demolition", "active": "y"},
        {"name": "Selective Demolition"},
    ),
    "vendor": (Vendor, {"name": "Bayside Concrete"}, {"name": "Bayside Concrete Co"}),
    "employee": (
        Employee,
        {"name": "Rosa Ortiz", "cost_rate": "48.50"},
        {"name": "Rosa Ortiz-Lee", "cost_rate": "52.25"},
    ),
}
#: Forms whose record belongs to a company, and the name of that form field.
COMPANY_FIELD = {
    "project": "company",
    "costcode": "company_id",
    "vendor": "company_id",
    "employee": "company_id",
}


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _only(session, model, **where):
    session.expire_all()
    return session.scalars(select(model).filter_by(**where)).one()


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_every_offered_form_creates_and_edits(web_client, committed_db, endpoint):
    model, create, edit = FORMS[endpoint]
    other = make_company(committed_db, name="Another Builder")
    company = make_company(committed_db, name="Pacific Builders")
    committed_db.commit()
    page = web_client.get(f"/admin/{endpoint}/new/").get_data(as_text=True)
    data = {"csrf_token": _token(page), **create}
    if endpoint in COMPANY_FIELD:
        field = COMPANY_FIELD[endpoint]
        assert f'name="{field}"' in page
        assert ">Pacific Builders<" in page
        assert ">Another Builder<" in page
        data[field] = str(company.id)
    response = web_client.post(f"/admin/{endpoint}/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    row = _only(committed_db, model, name=create["name"])
    if endpoint in COMPANY_FIELD:
        assert row.company_id == company.id
        assert row.company_id != other.id
    page = web_client.get(f"/admin/{endpoint}/edit/?id={row.id}").get_data(as_text=True)
    # What a browser posts: every field the edit form shows (a record of a company keeps it).
    data = {"csrf_token": _token(page), **create, **edit}
    if endpoint == "project":
        data["company"] = str(company.id)
    else:
        assert 'name="company_id"' not in page
    response = web_client.post(f"/admin/{endpoint}/edit/?id={row.id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    changed = _only(committed_db, model, id=row.id)
    assert changed.name == edit["name"]
    if endpoint == "employee":
        assert changed.cost_rate == Decimal("52.25")
    if endpoint in COMPANY_FIELD:
        assert changed.company_id == company.id  # edits keep the company


@pytest.mark.parametrize("endpoint", ["costcode", "vendor", "employee"])
def test_a_record_without_a_company_is_refused_in_words(web_client, committed_db, endpoint):
    make_company(committed_db, name="Pacific Builders")
    committed_db.commit()
    model, create, _edit = FORMS[endpoint]
    page = web_client.get(f"/admin/{endpoint}/new/").get_data(as_text=True)
    response = web_client.post(
        f"/admin/{endpoint}/new/", data={"csrf_token": _token(page), **create}
    )
    assert response.status_code == 200
    assert "out of range" not in response.get_data(as_text=True)
    assert "This field is required." in response.get_data(as_text=True)
    committed_db.expire_all()
    assert committed_db.scalars(select(model)).all() == []


def test_a_cost_code_already_used_in_the_company_is_refused_in_words(web_client, committed_db):
    company = make_company(committed_db, name="Pacific Builders")
    committed_db.add(CostCode(company_id=company.id, code="02-200", name="Demolition"))
    committed_db.commit()
    page = web_client.get("/admin/costcode/new/").get_data(as_text=True)
    response = web_client.post(
        "/admin/costcode/new/",
        data={
            "csrf_token": _token(page),
            "company_id": str(company.id),
            "code": "02-200",
            "name": "Demo again",
        },
    )
    text = response.get_data(as_text=True)
    assert "The company already has a cost code “02-200”; choose another." in text
    committed_db.expire_all()
    assert len(committed_db.scalars(select(CostCode)).all()) == 1


def _offers(view, what: str) -> bool:
    """Whether a model view offers its new (`create`) or edit form to a user allowed to write."""
    declared = getattr(type(view), f"can_{what}")
    if isinstance(declared, property):  # SecureModelView: on unless the view turned it off
        return bool(getattr(view, f"_can_{what}"))
    return bool(declared)


def test_only_the_tested_forms_are_offered(app):
    views = [v for v in app.extensions["admin"][0]._views if isinstance(v, ModelView)]
    assert len(views) > len(FORMS)
    offered = {v.endpoint for v in views if _offers(v, "create") or _offers(v, "edit")}
    assert offered == set(FORMS)


@pytest.mark.parametrize("endpoint", ["budgetline", "bill", "invoice", "timeentry", "actual"])
def test_forms_not_offered_are_refused(web_client, committed_db, endpoint):
    listing = web_client.get(f"/admin/{endpoint}/").get_data(as_text=True)
    assert f"/admin/{endpoint}/new/" not in listing
    assert web_client.get(f"/admin/{endpoint}/new/").status_code in (302, 403, 404)
