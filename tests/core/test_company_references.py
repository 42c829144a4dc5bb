"""References stay in their company (issue 22, finding 6): on every create and edit path.

A bill's vendor, a bill or invoice line's cost code, a time entry's employee and cost code must
be the project's company's. The check lives once in the core (`core.references`, called by
`core.push.records`), so the console, the CLI and any other caller share it; the console's and
the CLI's own pickers also offer only the company's rows.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.cli import main
from core.errors import NeedsAdmin
from core.models import Bill
from core.models import Employee
from core.models import Invoice
from core.models import Project
from core.models import TimeEntry
from core.models import Vendor
from core.push import records
from core.push.records import LineInput
from tests.factories import make_company
from tests.factories import make_cost_code
from tests.factories import make_project

D = Decimal
DAY = dt.date(2026, 3, 2)


class Two:
    """Two companies, each with a project, a vendor, an employee and a cost code."""

    def __init__(self, db) -> None:
        self.one = make_company(db, name="Ridgeline Builders")
        self.two = make_company(db, name="Northwind Homes")
        self.project = make_project(db, self.one, name="Maple Street")
        self.project_two = make_project(db, self.two, name="Harbor View")
        self.vendor = Vendor(company_id=self.one.id, name="Hillside Lumber")
        self.vendor_two = Vendor(company_id=self.two.id, name="Coastal Concrete")
        self.employee = Employee(company_id=self.one.id, name="Dana Ortiz")
        self.employee_two = Employee(company_id=self.two.id, name="Sam Lee")
        db.add_all([self.vendor, self.vendor_two, self.employee, self.employee_two])
        db.flush()
        self.code = make_cost_code(db, self.one, code="06-100", name="Framing")
        self.code_two = make_cost_code(db, self.two, code="03-300", name="Concrete Pour")
        db.commit()


@pytest.fixture
def two(committed_db):
    return Two(committed_db)


def _refused(call) -> str:
    with pytest.raises(NeedsAdmin) as caught:
        call()
    return caught.value.message


# -- the core ----------------------------------------------------------------------------------


def test_core_bill_create_and_edit_refuse_another_companys_vendor_and_cost_code(
    committed_db, pm, two
):
    db = committed_db
    said = _refused(
        lambda: records.create_bill(
            db, pm, two.project, vendor=two.vendor_two, bill_date=DAY, lines=[LineInput(D("5"))]
        )
    )
    assert (
        said
        == "The vendor “Coastal Concrete” belongs to Northwind Homes, not to Ridgeline Builders."
    )
    said = _refused(
        lambda: records.create_bill(
            db,
            pm,
            two.project,
            vendor=two.vendor,
            bill_date=DAY,
            lines=[LineInput(D("5"), cost_code_id=two.code_two.id)],
        )
    )
    assert "cost code “03-300 Concrete Pour” belongs to Northwind Homes" in said
    db.rollback()
    bill, _ = records.create_bill(
        db,
        pm,
        two.project,
        vendor=two.vendor,
        bill_date=DAY,
        lines=[LineInput(D("5"), cost_code_id=two.code.id)],
    )
    db.commit()
    said = _refused(lambda: records.edit_bill(db, pm, bill, vendor_id=two.vendor_two.id))
    assert "vendor “Coastal Concrete” belongs to Northwind Homes" in said
    db.rollback()
    said = _refused(
        lambda: records.edit_bill(
            db, pm, bill, lines=[LineInput(D("7"), cost_code_id=two.code_two.id)]
        )
    )
    assert "Concrete Pour" in said
    db.rollback()
    db.expire_all()
    kept = db.get(Bill, bill.id)
    assert kept.vendor_id == two.vendor.id
    assert [(line.amount, line.cost_code_id) for line in kept.lines] == [(D("5.00"), two.code.id)]


def test_core_invoice_create_and_edit_refuse_another_companys_cost_code(committed_db, pm, two):
    db = committed_db
    foreign = [LineInput(D("100"), cost_code_id=two.code_two.id)]
    said = _refused(
        lambda: records.create_invoice(db, pm, two.project, invoice_date=DAY, lines=foreign)
    )
    assert "Concrete Pour" in said
    assert "Northwind Homes" in said
    db.rollback()
    invoice, _ = records.create_invoice(
        db, pm, two.project, invoice_date=DAY, lines=[LineInput(D("100"), two.code.id)]
    )
    db.commit()
    _refused(lambda: records.edit_invoice(db, pm, invoice, lines=foreign))
    db.rollback()
    db.expire_all()
    assert [line.cost_code_id for line in db.get(Invoice, invoice.id).lines] == [two.code.id]


def test_core_time_entry_add_and_edit_refuse_another_companys_employee_and_cost_code(
    committed_db, pm, two
):
    db = committed_db
    said = _refused(
        lambda: records.add_time_entry(
            db, pm, two.project, employee=two.employee_two, work_date=DAY, hours=D("8")
        )
    )
    assert said == "The employee “Sam Lee” belongs to Northwind Homes, not to Ridgeline Builders."
    _refused(
        lambda: records.add_time_entry(
            db,
            pm,
            two.project,
            employee=two.employee,
            work_date=DAY,
            hours=D("8"),
            cost_code_id=two.code_two.id,
        )
    )
    db.rollback()
    entry, _ = records.add_time_entry(
        db, pm, two.project, employee=two.employee, work_date=DAY, hours=D("8")
    )
    db.commit()
    _refused(lambda: records.edit_time_entry(db, pm, entry, employee_id=two.employee_two.id))
    db.rollback()
    _refused(lambda: records.edit_time_entry(db, pm, entry, cost_code_id=two.code_two.id))
    db.rollback()
    db.expire_all()
    kept = db.get(TimeEntry, entry.id)
    assert (kept.employee_id, kept.cost_code_id) == (two.employee.id, None)
    # Its own company's cost code is taken.
    records.edit_time_entry(db, pm, kept, cost_code_id=two.code.id)
    db.commit()
    assert db.get(TimeEntry, entry.id).cost_code_id == two.code.id


# -- the CLI (names are looked up in the project's company only) --------------------------------


def _cli(rt, *args: str):
    return CliRunner().invoke(main, list(args), obj=rt)


def _cli_refused(rt, *args: str) -> str:
    result = _cli(rt, *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_cli_bill_create_and_edit_refuse_another_companys_vendor_and_code(
    runtime, committed_db, two
):
    pid = str(two.project.id)
    said = _cli_refused(
        runtime, "bills", "create", "--project", pid, "--vendor", "Coastal Concrete",
        "--date", "2026-03-02", "--line", "06-100=10",
    )  # fmt: skip
    assert "Coastal Concrete" in said
    said = _cli_refused(
        runtime, "bills", "create", "--project", pid, "--vendor", "Hillside Lumber",
        "--date", "2026-03-02", "--line", "03-300=10",
    )  # fmt: skip
    assert "03-300" in said
    made = _cli(
        runtime, "bills", "create", "--project", pid, "--vendor", "Hillside Lumber",
        "--date", "2026-03-02", "--line", "06-100=10", "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    bill_id = committed_db.scalar(select(Bill.id).where(Bill.project_id == two.project.id))
    _cli_refused(runtime, "bills", "edit", str(bill_id), "--vendor", "Coastal Concrete")
    _cli_refused(runtime, "bills", "edit", str(bill_id), "--line", "03-300=10")
    committed_db.expire_all()
    bill = committed_db.get(Bill, bill_id)
    assert bill.vendor_id == two.vendor.id
    assert [line.cost_code_id for line in bill.lines] == [two.code.id]


def test_cli_invoice_and_time_refuse_another_companys_code_and_employee(runtime, committed_db, two):
    pid = str(two.project.id)
    _cli_refused(
        runtime, "invoices", "create", "--project", pid, "--date", "2026-03-02",
        "--line", "03-300=10",
    )  # fmt: skip
    _cli_refused(
        runtime, "time", "add", "--project", pid, "--employee", "Sam Lee",
        "--date", "2026-03-02", "--hours", "8",
    )  # fmt: skip
    _cli_refused(
        runtime, "time", "add", "--project", pid, "--employee", "Dana Ortiz",
        "--date", "2026-03-02", "--hours", "8", "--code", "03-300",
    )  # fmt: skip
    assert committed_db.scalars(select(Invoice)).all() == []
    assert committed_db.scalars(select(TimeEntry)).all() == []


# -- the console's forms -------------------------------------------------------------------------


def _csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _bill_form(two, vendor_id: int, code_id: int | str, csrf: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "vendor_id": str(vendor_id),
        "bill_date": "2026-03-02",
        "line-0-amount": "10.00",
        "line-0-cost_code": str(code_id),
    }


def test_console_bill_forms_refuse_another_companys_vendor_and_code(web_client, committed_db, two):
    new = f"/admin/bills/new?project_id={two.project.id}"
    page = web_client.get(new).get_data(as_text=True)
    assert "Hillside Lumber" in page
    assert "Coastal Concrete" not in page
    assert "Concrete Pour" not in page
    csrf = _csrf(web_client, new)
    resp = web_client.post(new, data=_bill_form(two, two.vendor_two.id, two.code.id, csrf))
    assert "Choose the vendor" in resp.get_data(as_text=True)
    resp = web_client.post(new, data=_bill_form(two, two.vendor.id, two.code_two.id, csrf))
    assert "That cost code is not in the list" in resp.get_data(as_text=True)
    assert committed_db.scalars(select(Bill)).all() == []
    assert (
        web_client.post(new, data=_bill_form(two, two.vendor.id, two.code.id, csrf)).status_code
        == 302
    )
    bill_id = committed_db.scalar(select(Bill.id))
    edit = f"/admin/bills/edit?id={bill_id}"
    resp = web_client.post(edit, data=_bill_form(two, two.vendor_two.id, two.code.id, csrf))
    assert "Choose the vendor" in resp.get_data(as_text=True)
    resp = web_client.post(edit, data=_bill_form(two, two.vendor.id, two.code_two.id, csrf))
    assert "That cost code is not in the list" in resp.get_data(as_text=True)
    committed_db.expire_all()
    bill = committed_db.get(Bill, bill_id)
    assert bill.vendor_id == two.vendor.id
    assert [line.cost_code_id for line in bill.lines] == [two.code.id]


def test_console_invoice_and_time_forms_refuse_another_companys_code_and_employee(
    web_client, committed_db, two
):
    new = f"/admin/invoices/new?project_id={two.project.id}"
    csrf = _csrf(web_client, new)
    resp = web_client.post(
        new,
        data={
            "csrf_token": csrf,
            "invoice_date": "2026-03-02",
            "line-0-amount": "10",
            "line-0-cost_code": str(two.code_two.id),
        },
    )
    assert "That cost code is not in the list" in resp.get_data(as_text=True)
    new = f"/admin/time/new?project_id={two.project.id}"
    page = web_client.get(new).get_data(as_text=True)
    assert "Dana Ortiz" in page
    assert "Sam Lee" not in page
    for employee, code in ((two.employee_two.id, ""), (two.employee.id, two.code_two.id)):
        resp = web_client.post(
            new,
            data={
                "csrf_token": csrf,
                "employee_id": str(employee),
                "work_date": "2026-03-02",
                "hours": "8",
                "cost_code": str(code),
            },
        )
        assert resp.status_code == 200
        assert "Choose the employee" in resp.get_data(as_text=True) or "not in the list" in (
            resp.get_data(as_text=True)
        )
    assert committed_db.scalars(select(Invoice)).all() == []
    assert committed_db.scalars(select(TimeEntry)).all() == []


def test_flask_admin_project_form_keeps_a_project_in_its_company(web_client, committed_db, two):
    edit = f"/admin/project/edit/?id={two.project.id}"
    page = web_client.get(edit).get_data(as_text=True)
    # On an edit the company drop-down offers only the project's own company.
    assert "Ridgeline Builders" in page
    assert "Northwind Homes" not in page
    resp = web_client.post(
        edit,
        data={"csrf_token": _csrf(web_client, edit), "company": str(two.two.id), "name": "Moved"},
    )
    assert resp.status_code == 200
    assert "Not a valid choice" in resp.get_data(as_text=True)
    committed_db.expire_all()
    project = committed_db.get(Project, two.project.id)
    assert (project.company_id, project.name) == (two.one.id, "Maple Street")
