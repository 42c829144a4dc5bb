"""The document pages (bills, invoices, time) know only their project's company.

Two companies share the instance, each with its vendors, employees and cost codes. A page of a
project of the first lists and accepts only the first company's: the second's names are absent
from every page, and a form post naming one of its rows is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask import template_rendered
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Bill
from core.models import BillLine
from core.models import CostCode
from core.models import Employee
from core.models import InvoiceLine
from core.models import Project
from core.models import TimeEntry
from core.models import Vendor
from tests.factories import make_bill
from tests.factories import make_company
from tests.factories import make_cost_code
from tests.factories import make_project

THEIR_NAMES = ("Zenith Concrete", "Quinn Okafor", "Their Secret Scope")


@dataclass(frozen=True)
class World:
    project: Project
    bill: Bill
    vendor: Vendor
    employee: Employee
    code: CostCode
    their_vendor: Vendor
    their_employee: Employee
    their_code: CostCode


@pytest.fixture
def world(committed_db: Session) -> World:
    project = make_project(committed_db, linked=True, enabled_plugins=None)
    other = make_company(committed_db, name="Harbor Point Construction")
    code = make_cost_code(committed_db, project.company, code="01-100", name="General Conditions")
    their_code = make_cost_code(committed_db, other, code="99-900", name=THEIR_NAMES[2])
    employee = Employee(company_id=project.company_id, name="Dana Ruiz")
    their_employee = Employee(company_id=other.id, name=THEIR_NAMES[1])
    their_vendor = Vendor(company_id=other.id, name=THEIR_NAMES[0])
    committed_db.add_all([employee, their_employee, their_vendor])
    bill = make_bill(committed_db, project, number="B-1")
    committed_db.add(
        TimeEntry(
            project_id=project.id,
            employee_id=employee.id,
            work_date=dt.date(2026, 4, 2),
            hours=Decimal("7.50"),
        )
    )
    committed_db.commit()
    vendor = committed_db.get(Vendor, bill.vendor_id)
    assert vendor is not None
    return World(project, bill, vendor, employee, code, their_vendor, their_employee, their_code)


@pytest.fixture
def rendered(app: Flask) -> Iterator[list[dict[str, Any]]]:
    """The context of every template the app renders during the test."""
    contexts: list[dict[str, Any]] = []

    def record(sender: Flask, template: Any, context: dict[str, Any], **_: Any) -> None:
        contexts.append(context)

    with template_rendered.connected_to(record, app):
        yield contexts


def _rows(value: Any) -> list[Any]:
    """The vendors, employees and cost codes in one template variable (a list or a dict)."""
    items = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(items, (list, tuple)):
        return []
    return [row for row in items if isinstance(row, (Vendor, Employee, CostCode))]


def _csrf(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, url
    return found.group(1)


@pytest.mark.parametrize(
    "page",
    [
        "/admin/bills/?project_id={p}",
        "/admin/bills/new?project_id={p}",
        "/admin/bills/edit?id={b}",
        "/admin/invoices/?project_id={p}",
        "/admin/invoices/new?project_id={p}",
        "/admin/time/?project_id={p}",
        "/admin/time/new?project_id={p}",
    ],
)
def test_a_document_page_holds_only_its_companys_vendors_employees_and_codes(
    web_client: FlaskClient, world: World, rendered: list[dict[str, Any]], page: str
) -> None:
    resp = web_client.get(page.format(p=world.project.id, b=world.bill.id))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for name in THEIR_NAMES:
        assert name not in html
    loaded = [row for context in rendered for value in context.values() for row in _rows(value)]
    assert {row.company_id for row in loaded} <= {world.project.company_id}


def test_the_lists_name_their_own_vendor_and_employee(
    web_client: FlaskClient, world: World
) -> None:
    bills = web_client.get(f"/admin/bills/?project_id={world.project.id}").get_data(as_text=True)
    assert world.vendor.name in bills
    time = web_client.get(f"/admin/time/?project_id={world.project.id}").get_data(as_text=True)
    assert world.employee.name in time


def test_a_bill_cannot_be_moved_to_another_companys_vendor(
    web_client: FlaskClient, world: World, committed_db: Session
) -> None:
    url = f"/admin/bills/edit?id={world.bill.id}"
    resp = web_client.post(
        url,
        data={
            "csrf_token": _csrf(web_client, url),
            "vendor_id": str(world.their_vendor.id),
            "bill_date": "2026-04-01",
            "line-0-amount": "100.00",
        },
        follow_redirects=True,
    )
    assert "Choose the vendor." in resp.get_data(as_text=True)
    committed_db.expire_all()
    bill = committed_db.get(Bill, world.bill.id)
    assert bill is not None
    assert bill.vendor_id == world.vendor.id
    listing = web_client.get(f"/admin/bills/?project_id={world.project.id}")
    assert THEIR_NAMES[0] not in listing.get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "fields", "model"),
    [
        ("bills", {"bill_date": "2026-04-01", "line-0-amount": "10.00"}, BillLine),
        ("invoices", {"invoice_date": "2026-04-01", "line-0-amount": "10.00"}, InvoiceLine),
        ("time", {"work_date": "2026-04-01", "hours": "2"}, TimeEntry),
    ],
)
def test_a_line_cannot_take_another_companys_cost_code(
    web_client: FlaskClient,
    world: World,
    committed_db: Session,
    form: str,
    fields: dict[str, str],
    model: Any,
) -> None:
    url = f"/admin/{form}/new?project_id={world.project.id}"
    code_field = "cost_code" if form == "time" else "line-0-cost_code"
    data = {
        **fields,
        "csrf_token": _csrf(web_client, url),
        "vendor_id": str(world.vendor.id),
        "employee_id": str(world.employee.id),
        code_field: str(world.their_code.id),
    }
    resp = web_client.post(url, data=data, follow_redirects=True)
    assert "That cost code is not in the list." in resp.get_data(as_text=True)
    committed_db.expire_all()
    taken = committed_db.scalars(select(model).where(model.cost_code_id == world.their_code.id))
    assert taken.all() == []
