"""The console's class and location choices: project defaults and a bill's own."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.models import Bill
from core.models import Project
from core.models import TrackingCategory
from core.models import Vendor
from tests.factories import make_cost_code
from tests.factories import make_project


def _csrf(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def project(committed_db):
    row = make_project(committed_db, linked=True, enabled_plugins=None)
    make_cost_code(committed_db, row.company, code="01-100", name="General Conditions")
    committed_db.add(Vendor(company_id=row.company_id, name="Hillside Lumber Supply"))
    for kind, qbo_id, name, full, active in (
        ("class", "5000000000000000001", "Framing crew", "Framing crew", True),
        ("class", "5000000000000000002", "Night", "Framing crew:Night", True),
        ("class", "5000000000000000003", "Retired", "Retired", False),
        ("location", "2", "North yard", "North yard", True),
    ):
        committed_db.add(
            TrackingCategory(
                company_id=row.company_id,
                kind=kind,
                qbo_id=qbo_id,
                name=name,
                full_name=full,
                active=active,
            )
        )
    committed_db.commit()
    return row


def test_financials_page_offers_the_active_classes_and_saves_the_defaults(
    web_client, committed_db, project
):
    url = f"/admin/project/settings/?id={project.id}"
    page = web_client.get(url).get_data(as_text=True)
    assert ">Framing crew:Night</option>" in page
    assert ">North yard</option>" in page
    assert "Retired" not in page
    resp = web_client.post(
        f"/admin/project/tracking/?id={project.id}",
        data={
            "csrf_token": _csrf(web_client, url),
            "qbo_class_id": "5000000000000000002",
            "qbo_location_id": "2",
        },
        follow_redirects=True,
    )
    assert "Class and location saved." in resp.get_data(as_text=True)
    committed_db.expire_all()
    saved = committed_db.get(Project, project.id)
    assert (saved.qbo_class_id, saved.qbo_location_id) == ("5000000000000000002", "2")
    resp = web_client.post(
        f"/admin/project/tracking/?id={project.id}",
        data={"csrf_token": _csrf(web_client, url), "qbo_class_id": "5000000000000000003"},
        follow_redirects=True,
    )
    assert "not one of the company&#39;s active QuickBooks classes" in resp.get_data(True)
    committed_db.expire_all()
    assert committed_db.get(Project, project.id).qbo_class_id == "5000000000000000002"


def test_bill_form_keeps_a_line_class_and_a_bill_location(web_client, committed_db, project):
    url = f"/admin/bills/new?project_id={project.id}"
    page = web_client.get(url).get_data(as_text=True)
    assert 'name="line-0-class"' in page
    assert 'name="qbo_location_id"' in page
    vendor = committed_db.scalars(select(Vendor)).one()
    web_client.post(
        url,
        data={
            "csrf_token": _csrf(web_client, url),
            "vendor_id": str(vendor.id),
            "bill_date": "2026-03-02",
            "line-0-amount": "10.00",
            "line-0-class": "5000000000000000001",
            "qbo_location_id": "2",
        },
    )
    committed_db.expire_all()
    bill = committed_db.scalars(select(Bill).where(Bill.project_id == project.id)).one()
    assert bill.qbo_location_id == "2"
    assert [line.qbo_class_id for line in bill.lines] == ["5000000000000000001"]
