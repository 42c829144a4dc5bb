"""Bills pushed to the sandbox over HTTP: payload, edits, stale objects, paid bills, deletes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.models import OutboxEntry
from core.models import OutboxState
from core.push import records
from core.push.records import LineInput
from tests.core.push.conftest import send

D = Decimal


def _project(project_factory, books, **settings):
    return project_factory(
        {"push_bills": True, "default_billing_cost_code": books.framing.id, **settings},
        customer_id=books.customer_id,
    )


def test_bill_is_pushed_unpaid_with_coded_lines_for_the_linked_customer(
    qbo_runtime, committed_db, books, project_factory
):
    project = _project(project_factory, books)
    bill, entries = records.create_bill(
        committed_db,
        qbo_runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        number="HL-88412",
        lines=[
            LineInput(D("1250.10"), books.concrete.id, "Footings"),
            LineInput(D("99.99"), None, "Nails", billable=False),
        ],
    )
    send(qbo_runtime, committed_db, entries)
    qbo_id = records.qbo_id_of(committed_db, "bill", bill.id)
    assert qbo_id
    pushed = books.client.read("Bill", qbo_id)
    assert pushed["TotalAmt"] == D("1350.09")
    assert pushed["Balance"] == pushed["TotalAmt"]
    assert pushed["DocNumber"] == "HL-88412"
    assert pushed["VendorRef"]["value"] == books.vendor.qbo_vendor_id
    details = [line["ItemBasedExpenseLineDetail"] for line in pushed["Line"]]
    assert [d["ItemRef"]["value"] for d in details] == [
        books.concrete.qbo_item_id,
        books.framing.qbo_item_id,
    ]
    assert {d["CustomerRef"]["value"] for d in details} == {books.customer_id}
    assert [d["BillableStatus"] for d in details] == ["Billable", "NotBillable"]
    assert committed_db.get(OutboxEntry, entries[0].id).state == OutboxState.DONE
