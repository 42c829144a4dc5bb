"""Issue 10, bullet 4: names, paths and balances are computed when QBO answers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sandbox import SandboxServer
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body


def _rename(api: Api, entity: str, obj: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"Id": obj["Id"], "SyncToken": obj["SyncToken"], "sparse": True, **fields}
    resp = api.post(entity.lower(), body)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()[entity])


def _invoice(book: dict[str, str], customer: str, amount: str) -> dict[str, Any]:
    return {
        "CustomerRef": {"value": customer},
        "Line": [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": book["item"]}},
            }
        ],
    }


def test_renamed_vendor_is_renamed_on_its_bills_everywhere(
    api: Api, book: dict[str, str], sandbox_server: SandboxServer
) -> None:
    bill = api.create("Bill", bill_body(book))
    vendor = api.get(f"vendor/{book['vendor']}").json()["Vendor"]
    _rename(api, "Vendor", vendor, DisplayName="Hillside Timber Co")
    read = api.get(f"bill/{bill['Id']}").json()["Bill"]
    assert read["VendorRef"]["name"] == "Hillside Timber Co"
    row = api.query(f"SELECT * FROM Bill WHERE Id = '{bill['Id']}'")["Bill"][0]  # noqa: S608
    assert row["VendorRef"]["name"] == "Hillside Timber Co"
    since = (sandbox_server.sandbox.clock.now() - timedelta(hours=1)).isoformat()
    cdc = api.get("cdc", params={"entities": "Bill", "changedSince": since}).json()
    assert cdc["CDCResponse"][0]["QueryResponse"][0]["Bill"][0]["VendorRef"]["name"] == (
        "Hillside Timber Co"
    )


def test_renamed_parent_renames_the_childs_fully_qualified_name(
    api: Api, book: dict[str, str]
) -> None:
    parent = api.get(f"customer/{book['customer']}").json()["Customer"]
    job = api.create(
        "Customer", {"DisplayName": "Deck", "Job": True, "ParentRef": {"value": parent["Id"]}}
    )
    assert job["FullyQualifiedName"] == "Maple Street Remodel:Deck"
    _rename(api, "Customer", parent, DisplayName="Maple St Remodel")
    again = api.get(f"customer/{job['Id']}").json()["Customer"]
    assert again["FullyQualifiedName"] == "Maple St Remodel:Deck"
    assert again["ParentRef"]["name"] == "Maple St Remodel"
    rows = api.query("SELECT * FROM Customer WHERE FullyQualifiedName = 'Maple St Remodel:Deck'")
    assert [r["Id"] for r in rows["Customer"]] == [job["Id"]]


def test_vendor_balance_is_its_open_bills(api: Api, book: dict[str, str]) -> None:
    api.create("Bill", bill_body(book, 100.25))
    gone = api.create("Bill", bill_body(book, 50))
    api.post("bill", {"Id": gone["Id"], "SyncToken": gone["SyncToken"]}, {"operation": "delete"})
    vendor = api.get(f"vendor/{book['vendor']}").json()["Vendor"]
    assert Decimal(str(vendor["Balance"])) == Decimal("100.25")
    # Vendor.Balance is not confirmed filterable at Intuit: a query returns it, computed.
    rows = api.query(f"SELECT * FROM Vendor WHERE Id = '{book['vendor']}'")["Vendor"]  # noqa: S608
    assert [Decimal(str(r["Balance"])) for r in rows] == [Decimal("100.25")]


def test_customer_balance_and_balance_with_jobs_follow_invoices_and_payments(
    api: Api, book: dict[str, str]
) -> None:
    parent = book["customer"]
    job = api.create(
        "Customer", {"DisplayName": "Porch", "Job": True, "ParentRef": {"value": parent}}
    )
    api.create("Invoice", _invoice(book, parent, "300.00"))
    job_invoice = api.create("Invoice", _invoice(book, job["Id"], "200.00"))
    api.create(
        "Payment",
        {
            "CustomerRef": {"value": job["Id"]},
            "TotalAmt": "80.00",
            "Line": [
                {
                    "Amount": "80.00",
                    "LinkedTxn": [{"TxnId": job_invoice["Id"], "TxnType": "Invoice"}],
                }
            ],
        },
    )
    top = api.get(f"customer/{parent}").json()["Customer"]
    assert Decimal(str(top["Balance"])) == Decimal("300.00")
    assert Decimal(str(top["BalanceWithJobs"])) == Decimal("420.00")
    sub = api.get(f"customer/{job['Id']}").json()["Customer"]
    assert Decimal(str(sub["Balance"])) == Decimal("120.00")
