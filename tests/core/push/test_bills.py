"""Bills pushed to the sandbox over HTTP: payload, edits, stale objects, paid bills, deletes."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from freezegun import freeze_time

from core.errors import Rejected
from core.files import store_for
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


def _pushed_bill(qbo_runtime, committed_db, books, project_factory, **settings):
    project = _project(project_factory, books, **settings)
    bill, entries = records.create_bill(
        committed_db,
        qbo_runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[LineInput(D("100.00"), books.concrete.id)],
    )
    send(qbo_runtime, committed_db, entries)
    return bill, records.qbo_id_of(committed_db, "bill", bill.id)


def test_edit_is_sent_with_the_current_sync_token(
    qbo_runtime, committed_db, books, project_factory
):
    bill, qbo_id = _pushed_bill(qbo_runtime, committed_db, books, project_factory)
    entries = records.edit_bill(
        committed_db,
        qbo_runtime.pm,
        bill,
        memo="Revised",
        lines=[LineInput(D("120.00"), books.concrete.id)],
    )
    send(qbo_runtime, committed_db, entries)
    pushed = books.client.read("Bill", qbo_id)
    assert (pushed["TotalAmt"], pushed["SyncToken"]) == (D("120.00"), "1")
    assert pushed["PrivateNote"].startswith("Revised\ncb-")
    assert committed_db.get(OutboxEntry, entries[0].id).state == OutboxState.DONE


def test_stale_object_is_read_again_and_the_edit_applied(
    qbo_runtime, committed_db, books, project_factory, sandbox_control
):
    bill, qbo_id = _pushed_bill(qbo_runtime, committed_db, books, project_factory)
    sandbox_control.faults(fault_code="5010", count=1, paths=["bill"])
    entries = records.edit_bill(committed_db, qbo_runtime.pm, bill, number="HL-2")
    send(qbo_runtime, committed_db, entries)
    assert books.client.read("Bill", qbo_id)["DocNumber"] == "HL-2"
    assert committed_db.get(OutboxEntry, entries[0].id).state == OutboxState.DONE


def test_edit_that_keeps_meeting_stale_objects_is_a_conflict_the_admin_sees(
    qbo_runtime, committed_db, books, project_factory, sandbox_control
):
    bill, qbo_id = _pushed_bill(qbo_runtime, committed_db, books, project_factory)
    sandbox_control.faults(fault_code="5010", count=2, paths=["bill"])
    entries = records.edit_bill(committed_db, qbo_runtime.pm, bill, number="HL-3")
    send(qbo_runtime, committed_db, entries)
    row = committed_db.get(OutboxEntry, entries[0].id)
    assert row.state == OutboxState.NEEDS_ADMIN
    assert "(conflict)" in row.last_error
    assert row.error_code == "5010"
    assert books.client.read("Bill", qbo_id).get("DocNumber") != "HL-3"


def test_bill_deleted_here_before_it_is_paid_is_deleted_in_qbo(
    qbo_runtime, committed_db, books, project_factory
):
    bill, qbo_id = _pushed_bill(qbo_runtime, committed_db, books, project_factory)
    entries = records.delete_bill(committed_db, qbo_runtime.pm, bill)
    send(qbo_runtime, committed_db, entries)
    assert books.client.query("SELECT * FROM Bill").get("Bill", []) == []
    assert records.qbo_id_of(committed_db, "bill", bill.id) is None
    assert committed_db.get(OutboxEntry, entries[0].id).state == OutboxState.DONE


def test_bill_deleted_before_it_was_sent_never_reaches_qbo(
    qbo_runtime, committed_db, books, project_factory
):
    project = _project(project_factory, books)
    bill, created = records.create_bill(
        committed_db,
        qbo_runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[LineInput(D("5.00"), None)],
    )
    assert records.delete_bill(committed_db, qbo_runtime.pm, bill) == []
    send(qbo_runtime, committed_db, created)
    assert committed_db.get(OutboxEntry, created[0].id).state == OutboxState.CANCELLED
    assert books.client.query("SELECT * FROM Bill").get("Bill", []) == []


def test_bill_dated_in_closed_books_is_refused_before_anything_is_sent(
    qbo_runtime, committed_db, books, project_factory
):
    _close_books(books.client, "2026-03-31")
    project = _project(project_factory, books)
    _bill, entries = records.create_bill(
        committed_db,
        qbo_runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[LineInput(D("5.00"), None)],
    )
    send(qbo_runtime, committed_db, entries)
    row = committed_db.get(OutboxEntry, entries[0].id)
    assert row.state == OutboxState.NEEDS_ADMIN
    assert row.last_error.startswith("QuickBooks' books are closed up to 2026-03-31")
    assert books.client.query("SELECT * FROM Bill").get("Bill", []) == []


def _close_books(client, date):
    prefs = client.request("GET", "preferences", what="test")["Preferences"]
    client.update(
        "Preferences",
        {
            "Id": prefs["Id"],
            "SyncToken": prefs["SyncToken"],
            "AccountingInfoPrefs": {"BookCloseDate": date},
        },
        sparse=True,
        request_id=uuid.uuid4().hex,
    )


def test_pushes_read_the_closed_books_date_at_most_once_a_minute(
    qbo_runtime, committed_db, books, project_factory, sandbox_control, realm_id
):
    project = _project(project_factory, books)

    def push(number):
        _bill, entries = records.create_bill(
            committed_db,
            qbo_runtime.pm,
            project,
            vendor=books.vendor,
            bill_date=dt.date(2026, 3, 2),
            number=number,
            lines=[LineInput(D("5.00"), None)],
        )
        before = sandbox_control.counters().get(f"requests:{realm_id}", 0)
        send(qbo_runtime, committed_db, entries)
        row = committed_db.get(OutboxEntry, entries[0].id)
        return row, sandbox_control.counters()[f"requests:{realm_id}"] - before

    with freeze_time("2026-04-01 09:00:00", tick=True) as clock:
        first, first_requests = push("B-1")
        second, second_requests = push("B-2")
        assert (first.state, second.state) == (OutboxState.DONE, OutboxState.DONE)
        assert (first_requests, second_requests) == (2, 1)  # Preferences, then creates only
        _close_books(books.client, "2026-03-31")
        clock.tick(61)
        third, _ = push("B-3")
    assert third.state == OutboxState.NEEDS_ADMIN
    assert third.last_error.startswith("QuickBooks' books are closed up to 2026-03-31")


def test_files_of_a_pushed_bill_go_up_once_as_attachables_linked_to_it(
    qbo_runtime, committed_db, books, project_factory, tmp_path
):
    bill, qbo_id = _pushed_bill(qbo_runtime, committed_db, books, project_factory)
    store = store_for(qbo_runtime.settings.instance_path)
    file, entries = records.attach_file(
        committed_db,
        qbo_runtime.pm,
        store,
        bill,
        file_name="../../Invoice #88412 (final).PDF",
        content=b"%PDF-1.4 costbridge",
        content_type="application/pdf",
    )
    assert file.file_name == "Invoice _88412 (final).pdf"
    send(qbo_runtime, committed_db, entries)
    send(qbo_runtime, committed_db, entries)  # queued twice: still one Attachable
    attached = books.client.query(
        f"SELECT * FROM Attachable WHERE AttachableRef.EntityRef.value = '{qbo_id}'"  # noqa: S608
    ).get("Attachable", [])
    assert [a["FileName"] for a in attached] == ["Invoice _88412 (final).pdf"]
    assert records.qbo_id_of(committed_db, "attachment", file.id) == attached[0]["Id"]


def test_file_type_qbo_refuses_is_refused_when_attached(
    qbo_runtime, committed_db, books, project_factory
):
    bill, _qbo_id = _pushed_bill(qbo_runtime, committed_db, books, project_factory)
    with pytest.raises(Rejected) as refused:
        records.attach_file(
            committed_db,
            qbo_runtime.pm,
            store_for(qbo_runtime.settings.instance_path),
            bill,
            file_name="setup.exe",
            content=b"MZ",
            content_type="application/octet-stream",
        )
    assert refused.value.message == "QuickBooks does not accept .exe attachments."
    assert "pdf" in refused.value.fix


def _pay_bill(books, qbo_id, amount):
    """A BillPayment in QBO paying part or all of a bill (the sandbox bumps the bill)."""
    books.client.create(
        "BillPayment",
        {
            "VendorRef": {"value": books.vendor.qbo_vendor_id},
            "PayType": "Check",
            "TotalAmt": amount,
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": qbo_id, "TxnType": "Bill"}]}],
        },
        request_id=uuid.uuid4().hex,
    )


def test_bill_paid_in_qbo_is_not_edited_there(qbo_runtime, committed_db, books, project_factory):
    bill, qbo_id = _pushed_bill(qbo_runtime, committed_db, books, project_factory)
    _pay_bill(books, qbo_id, D("40.00"))
    entries = records.edit_bill(committed_db, qbo_runtime.pm, bill, number="HL-9")
    send(qbo_runtime, committed_db, entries)
    row = committed_db.get(OutboxEntry, entries[0].id)
    assert row.state == OutboxState.NEEDS_ADMIN
    assert "has been paid (fully or partly) in QuickBooks" in row.last_error
    in_qbo = books.client.read("Bill", qbo_id)
    assert (in_qbo.get("DocNumber"), in_qbo["Balance"]) == (None, D("60.00"))


def test_bill_paid_in_qbo_is_not_deleted_there(qbo_runtime, committed_db, books, project_factory):
    bill, qbo_id = _pushed_bill(qbo_runtime, committed_db, books, project_factory)
    _pay_bill(books, qbo_id, D("100.00"))
    entries = records.delete_bill(committed_db, qbo_runtime.pm, bill)
    send(qbo_runtime, committed_db, entries)
    row = committed_db.get(OutboxEntry, entries[0].id)
    assert row.state == OutboxState.NEEDS_ADMIN
    assert "has been paid in QuickBooks" in row.last_error
    assert books.client.read("Bill", qbo_id)["Balance"] == D("0.00")
