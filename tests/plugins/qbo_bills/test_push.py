"""The bills push mapper, without a database: local bill + lookups in, QBO payload out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import plugins.qbo_bills as qbo_bills
from core.contracts import LocalBill
from core.contracts import LocalBillLine
from core.contracts import LocalFile
from core.contracts import LocalInvoice
from core.contracts import PushLookups
from core.contracts import RemoteRecord
from core.errors import NeedsAdmin
from plugins.qbo_bills import push

D = Decimal
MARKER = "cb-0123456789abcdef0123456789abcdef0123"


def bill(*lines: LocalBillLine, memo: str | None = "Framing lumber, phase 2") -> LocalBill:
    return LocalBill(
        id=7,
        vendor_id=3,
        vendor_name="Hillside Lumber Supply",
        number="HL-88412-2026-LONG-NUMBER",
        bill_date=dt.date(2026, 3, 2),
        due_date=dt.date(2026, 4, 1),
        memo=memo,
        lines=lines or (LocalBillLine(0, 11, "Studs", D("1250.10")),),
    )


def lookups(**changes: object) -> PushLookups:
    values: dict[str, object] = {
        "settings": {"push_bills": True, "default_billing_cost_code": 12},
        "customer_id": "58",
        "vendors": {3: "56"},
        "items": {11: "19", 12: "20"},
        "cost_code_names": {11: "06-100 Framing", 12: "01-000 General", 13: "02-000 Sitework"},
        "cost_code_problems": {13: "turn on “I purchase this product/service”"},
        "marker": MARKER,
    }
    values.update(changes)
    return PushLookups(**values)  # type: ignore[arg-type]


def test_push_payload_maps_a_bill_to_an_unpaid_bill_with_item_lines():
    payload = qbo_bills.push_payload(
        bill(
            LocalBillLine(0, 11, "Studs", D("1250.10")),
            LocalBillLine(1, None, "Nails", D("9.999"), billable=False),
        ),
        lookups(),
    )
    assert payload.entity == "Bill"
    body = payload.body
    assert body["VendorRef"] == {"value": "56"}
    assert body["TxnDate"] == "2026-03-02"
    assert body["DueDate"] == "2026-04-01"
    assert body["DocNumber"] == "HL-88412-2026-LONG-NU"  # QBO keeps 21 characters
    assert "Balance" not in body
    assert "Id" not in body
    assert [line["Amount"] for line in body["Line"]] == [D("1250.10"), D("10.00")]
    details = [line["ItemBasedExpenseLineDetail"] for line in body["Line"]]
    assert [d["ItemRef"]["value"] for d in details] == ["19", "20"]  # default code on line 2
    assert {d["CustomerRef"]["value"] for d in details} == {"58"}
    assert [d["BillableStatus"] for d in details] == ["Billable", "NotBillable"]


def test_the_marker_ends_the_private_note_and_survives_a_long_memo():
    payload = push.bill(bill(memo="x" * 5000), lookups())
    note = payload.body["PrivateNote"]
    assert payload.marker_field == "PrivateNote"
    assert note.endswith("\n" + MARKER)
    assert len(note) == 4000


def test_an_edit_carries_the_qbo_id_and_current_sync_token():
    payload = push.bill(bill(), lookups(remote=RemoteRecord("146", "3")))
    assert (payload.body["Id"], payload.body["SyncToken"]) == ("146", "3")


def test_class_and_location_defaults_of_the_project_are_sent():
    payload = push.bill(bill(), lookups(class_id="5000000000000000", location_id="2"))
    assert payload.body["DepartmentRef"] == {"value": "2"}
    detail = payload.body["Line"][0]["ItemBasedExpenseLineDetail"]
    assert detail["ClassRef"] == {"value": "5000000000000000"}


def test_unconnected_vendor_is_refused_saying_what_to_connect():
    with pytest.raises(NeedsAdmin) as refused:
        push.bill(bill(), lookups(vendors={}))
    assert refused.value.message == (
        "The vendor Hillside Lumber Supply is not connected to a QuickBooks vendor."
    )
    assert "Open Vendors" in refused.value.fix


def test_line_without_code_and_no_default_billing_code_is_refused():
    with pytest.raises(NeedsAdmin) as refused:
        push.bill(bill(LocalBillLine(0, None, None, D("5"))), lookups(settings={}))
    assert "no default billing cost code" in refused.value.message
    assert "Default billing cost code" in refused.value.fix


def test_code_qbo_cannot_use_is_refused_with_the_reason():
    with pytest.raises(NeedsAdmin) as refused:
        push.bill(bill(LocalBillLine(0, 13, None, D("5"))), lookups())
    assert refused.value.message == (
        "Cost code 02-000 Sitework cannot be used in QuickBooks: turn on “I purchase this "
        "product/service”."
    )


def test_unlinked_project_is_refused():
    with pytest.raises(NeedsAdmin, match="not linked to a QuickBooks customer"):
        push.bill(bill(), lookups(customer_id=None))


def test_a_file_becomes_an_attachable_linked_to_its_bill_carrying_the_marker():
    file = LocalFile(9, "INV-88412.pdf", "application/pdf", 1024, "Bill", "146")
    payload = qbo_bills.push_payload(file, lookups())
    assert payload.entity == "Attachable"
    assert payload.body["AttachableRef"][0]["EntityRef"] == {"type": "Bill", "value": "146"}
    assert payload.body["Note"] == MARKER
    assert payload.find_by == {"AttachableRef.EntityRef.value": "146"}


def test_records_of_other_plugins_are_not_mapped():
    invoice = LocalInvoice(1, None, dt.date(2026, 3, 2), None, None, D("0"), ())
    assert qbo_bills.push_payload(invoice, lookups()) is None


def test_mapping_is_pure():
    record, given = bill(), lookups()
    assert push.bill(record, given) == push.bill(record, given)
