"""QuickBooks class and location: project defaults and per-record overrides reach the sandbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import tracking
from core.errors import CostbridgeError
from core.models import SettingChange
from core.push import records
from core.push.records import LineInput
from tests.core.push.conftest import rid
from tests.core.push.conftest import send

D = Decimal


@pytest.fixture
def tags(books, committed_db, company):
    """Two classes (one nested) and two locations in the sandbox, copied locally."""
    client = books.client
    framing = client.create("Class", {"Name": "Framing crew"}, request_id=rid())
    client.create(
        "Class", {"Name": "Night", "ParentRef": {"value": framing["Id"]}}, request_id=rid()
    )
    north = client.create("Department", {"Name": "North yard"}, request_id=rid())
    client.create("Department", {"Name": "South yard"}, request_id=rid())
    counts = tracking.refresh(committed_db, client, company.id)
    committed_db.commit()
    assert counts["location"] == 2
    by = {
        (k, n): tracking.resolve(committed_db, company.id, k, n)
        for k, n in (
            ("class", "Framing crew"),
            ("class", "Framing crew:Night"),
            ("location", "North yard"),
            ("location", "South yard"),
        )
    }
    assert by[("location", "North yard")] == north["Id"]
    return by


def _project(project_factory, books, **settings):
    return project_factory(
        {"push_bills": True, "default_billing_cost_code": books.framing.id, **settings},
        customer_id=books.customer_id,
    )


def test_project_defaults_reach_qbo_on_a_bill(
    qbo_runtime, committed_db, books, project_factory, tags
):
    project = _project(project_factory, books)
    changed = tracking.set_project_defaults(
        committed_db,
        project,
        {"class": tags[("class", "Framing crew")], "location": tags[("location", "North yard")]},
        changed_by="test",
    )
    assert changed == ["class", "location"]
    bill, entries = records.create_bill(
        committed_db,
        qbo_runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[LineInput(D("10.00"), books.concrete.id)],
    )
    send(qbo_runtime, committed_db, entries)
    pushed = books.client.read("Bill", records.qbo_id_of(committed_db, "bill", bill.id))
    assert pushed["DepartmentRef"]["value"] == tags[("location", "North yard")]
    detail = pushed["Line"][0]["ItemBasedExpenseLineDetail"]
    assert detail["ClassRef"]["value"] == tags[("class", "Framing crew")]
    history = committed_db.query(SettingChange).filter_by(project_id=project.id).all()
    assert {h.key: h.new_value["name"] for h in history if h.key.startswith("qbo_")} == {
        "qbo_class": "Framing crew",
        "qbo_location": "North yard",
    }


def test_bill_overrides_win_over_the_project_defaults(
    qbo_runtime, committed_db, books, project_factory, tags
):
    project = _project(project_factory, books)
    project.qbo_class_id = tags[("class", "Framing crew")]
    project.qbo_location_id = tags[("location", "North yard")]
    night = tags[("class", "Framing crew:Night")]
    bill, entries = records.create_bill(
        committed_db,
        qbo_runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[
            LineInput(D("10.00"), books.concrete.id, class_id=night),
            LineInput(D("5.00"), books.concrete.id),
        ],
        qbo_location_id=tags[("location", "South yard")],
    )
    send(qbo_runtime, committed_db, entries)
    pushed = books.client.read("Bill", records.qbo_id_of(committed_db, "bill", bill.id))
    assert pushed["DepartmentRef"]["value"] == tags[("location", "South yard")]
    classes = [line["ItemBasedExpenseLineDetail"]["ClassRef"]["value"] for line in pushed["Line"]]
    assert classes == [night, tags[("class", "Framing crew")]]


def test_invoice_and_time_overrides_reach_qbo(
    qbo_runtime, committed_db, books, project_factory, tags
):
    project = project_factory(
        {
            "send_invoices": True,
            "default_invoice_code": books.framing.id,
            "time_tracking": True,
        },
        customer_id=books.customer_id,
    )
    night = tags[("class", "Framing crew:Night")]
    south = tags[("location", "South yard")]
    invoice, entries = records.create_invoice(
        committed_db,
        qbo_runtime.pm,
        project,
        invoice_date=dt.date(2026, 3, 2),
        lines=[LineInput(D("100.00"), books.concrete.id, class_id=night)],
        qbo_location_id=south,
    )
    entry, more = records.add_time_entry(
        committed_db,
        qbo_runtime.pm,
        project,
        employee=books.employee,
        work_date=dt.date(2026, 3, 2),
        hours=D("2"),
        qbo_class_id=night,
        qbo_location_id=south,
    )
    send(qbo_runtime, committed_db, [*entries, *more])
    pushed = books.client.read("Invoice", records.qbo_id_of(committed_db, "invoice", invoice.id))
    assert pushed["DepartmentRef"]["value"] == south
    assert pushed["Line"][0]["SalesItemLineDetail"]["ClassRef"]["value"] == night
    time = books.client.read(
        "TimeActivity", records.qbo_id_of(committed_db, "time_entry", entry.id)
    )
    assert (time["ClassRef"]["value"], time["DepartmentRef"]["value"]) == (night, south)


def test_names_resolve_by_full_or_own_name_and_refuse_unknown_or_inactive(
    committed_db, books, company, tags
):
    assert (
        tracking.resolve(committed_db, company.id, "class", "night")
        == tags[("class", "Framing crew:Night")]
    )
    assert tracking.resolve(committed_db, company.id, "location", "") is None
    with pytest.raises(CostbridgeError, match="no location called “East yard”"):
        tracking.resolve(committed_db, company.id, "location", "East yard")
    closed = books.client.create("Department", {"Name": "Closed yard"}, request_id=rid())
    books.client.update(
        "Department",
        {
            "Id": closed["Id"],
            "SyncToken": closed["SyncToken"],
            "Name": "Closed yard",
            "Active": False,
        },
        request_id=rid(),
    )
    tracking.refresh(committed_db, books.client, company.id)
    with pytest.raises(CostbridgeError, match="“Closed yard” is inactive"):
        tracking.resolve(committed_db, company.id, "location", "Closed yard")
    # A name added in QuickBooks after the copy is found by asking QBO again.
    books.client.create("Class", {"Name": "Roofing"}, request_id=rid())
    found = tracking.resolve(
        committed_db, company.id, "class", "Roofing", client=lambda: books.client
    )
    assert found is not None


def test_a_class_that_is_not_the_companys_is_refused_before_saving(
    qbo_runtime, committed_db, books, project_factory, tags
):
    project = _project(project_factory, books)
    with pytest.raises(CostbridgeError, match="not one of the company's active"):
        records.create_bill(
            committed_db,
            qbo_runtime.pm,
            project,
            vendor=books.vendor,
            bill_date=dt.date(2026, 3, 2),
            lines=[LineInput(D("10.00"), books.concrete.id, class_id="999999")],
        )
