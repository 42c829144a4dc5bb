"""Bills pushed as unpaid QBO Bills, and their files as Attachables (pure mapping)."""

from __future__ import annotations

from typing import Any

from core.contracts import LocalBill
from core.contracts import LocalFile
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.errors import NeedsAdmin
from core.mapping.payloads import ATTACHABLE_NOTE_MAX
from core.mapping.payloads import PRIVATE_NOTE_MAX
from core.mapping.payloads import item_for
from core.mapping.payloads import linked_customer
from core.mapping.payloads import money
from core.mapping.payloads import ref
from core.mapping.payloads import with_marker
from core.mapping.payloads import with_remote

#: API.md §11.2: a bill's DocNumber holds at most 21 characters.
DOC_NUMBER_MAX = 21


def bill(record: LocalBill, lookups: PushLookups) -> QboPayload:
    """A Bill with one item-based line per local line, for the project's linked customer."""
    customer = linked_customer(lookups)
    vendor = lookups.vendors.get(record.vendor_id)
    if vendor is None:
        raise NeedsAdmin(
            f"The vendor {record.vendor_name} is not connected to a QuickBooks vendor.",
            fix="Open Vendors, connect it to its QuickBooks vendor (or import vendors from "
            "QuickBooks), then send the bill again.",
        )
    if not record.lines:
        raise NeedsAdmin("This bill has no lines.", fix="Add at least one line to the bill.")
    lines: list[dict[str, Any]] = []
    for line in record.lines:
        detail: dict[str, Any] = {
            "ItemRef": ref(
                item_for(
                    line.cost_code_id,
                    lookups,
                    default_setting="default_billing_cost_code",
                    default_label="Default billing cost code",
                    what="bill",
                )
            ),
            "CustomerRef": ref(customer),
            "BillableStatus": "Billable" if line.billable else "NotBillable",
        }
        # A line's own class wins over the project's; QBO keeps a bill's class per line.
        klass = line.class_id or lookups.class_id
        if klass:
            detail["ClassRef"] = ref(klass)
        out: dict[str, Any] = {
            "DetailType": "ItemBasedExpenseLineDetail",
            "Amount": money(line.amount),
            "ItemBasedExpenseLineDetail": detail,
        }
        if line.description:
            out["Description"] = line.description[:4000]
        lines.append(out)
    body: dict[str, Any] = {
        "VendorRef": ref(vendor),
        "TxnDate": record.bill_date.isoformat(),
        "PrivateNote": with_marker(record.memo, lookups.marker, PRIVATE_NOTE_MAX),
        "Line": lines,
    }
    if record.due_date:
        body["DueDate"] = record.due_date.isoformat()
    if record.number:
        body["DocNumber"] = record.number[:DOC_NUMBER_MAX]
    # QBO keeps the location (DepartmentRef) on the whole bill, not on its lines.
    location = record.location_id or lookups.location_id
    if location:
        body["DepartmentRef"] = ref(location)
    return QboPayload("Bill", with_remote(body, lookups), marker_field="PrivateNote")


def attachment(file: LocalFile, lookups: PushLookups) -> QboPayload:
    """The metadata of an Attachable linking the file to its pushed bill (API.md §7.2)."""
    body = {
        "FileName": file.file_name,
        "ContentType": file.content_type,
        "Note": with_marker(None, lookups.marker, ATTACHABLE_NOTE_MAX),
        "AttachableRef": [
            {
                "EntityRef": {"type": file.parent_entity, "value": file.parent_qbo_id},
                "IncludeOnSend": False,
            }
        ],
    }
    return QboPayload(
        "Attachable",
        body,
        marker_field="Note",
        find_by={"AttachableRef.EntityRef.value": file.parent_qbo_id},
    )
