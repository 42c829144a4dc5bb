"""Issue 10, bullet 5: field limits, money precision, hierarchies, voids and sparse merges."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body


def _code(resp: Any) -> str:
    assert resp.status_code == 400, resp.text
    return str(resp.json()["Fault"]["Error"][0]["code"])


@pytest.mark.parametrize(("field", "length"), [("DocNumber", 22), ("PrivateNote", 4001)])
def test_strings_over_qbos_length_limits_are_refused(
    api: Api, book: dict[str, str], field: str, length: int
) -> None:
    assert _code(api.post("bill", bill_body(book, **{field: "x" * length}))) == "2050"
    assert api.post("bill", bill_body(book, **{field: "x" * (length - 1)})).status_code == 200


def test_line_description_and_item_name_limits(api: Api, book: dict[str, str]) -> None:
    body = bill_body(book)
    body["Line"][0]["Description"] = "d" * 4001
    assert _code(api.post("bill", body)) == "2050"
    item = {"Name": "n" * 101, "Type": "Service", "IncomeAccountRef": {"value": book["income"]}}
    assert _code(api.post("item", item)) == "2050"


def test_money_with_more_than_two_decimals_is_refused(api: Api, book: dict[str, str]) -> None:
    assert _code(api.post("bill", bill_body(book, amount=10.005))) == "2010"
    made = api.create("Bill", bill_body(book, amount=10.5))
    assert Decimal(str(made["TotalAmt"])) == Decimal("10.50")


def _sub(api: Api, name: str, parent: str) -> dict[str, Any]:
    return api.create(
        "Customer", {"DisplayName": name, "Job": True, "ParentRef": {"value": parent}}
    )


def test_customer_hierarchy_cannot_loop(api: Api, book: dict[str, str]) -> None:
    top = api.get(f"customer/{book['customer']}").json()["Customer"]
    child = _sub(api, "Child", top["Id"])
    loop = {
        "Id": top["Id"],
        "SyncToken": top["SyncToken"],
        "sparse": True,
        "Job": True,
        "ParentRef": {"value": child["Id"]},
    }
    assert _code(api.post("customer", loop)) == "6000"


def test_customer_hierarchy_stops_at_five_levels(api: Api, book: dict[str, str]) -> None:
    parent = book["customer"]
    for level in range(1, 5):
        parent = _sub(api, f"Level {level}", parent)["Id"]
    body = {"DisplayName": "Level 5", "Job": True, "ParentRef": {"value": parent}}
    assert _code(api.post("customer", body)) == "6000"


def test_sparse_update_of_preferences_merges_nested_objects(api: Api) -> None:
    prefs = api.get("preferences").json()["Preferences"]
    body = {
        "Id": prefs["Id"],
        "SyncToken": prefs["SyncToken"],
        "sparse": True,
        "AccountingInfoPrefs": {"BookCloseDate": "2025-06-30"},
    }
    resp = api.post("preferences", body)
    assert resp.status_code == 200, resp.text
    after = api.get("preferences").json()["Preferences"]["AccountingInfoPrefs"]
    assert after["BookCloseDate"] == "2025-06-30"
    assert (
        after["ClassTrackingPerTxnLine"] == prefs["AccountingInfoPrefs"]["ClassTrackingPerTxnLine"]
    )


def test_voiding_a_payment_reopens_the_invoice_it_paid(api: Api, book: dict[str, str]) -> None:
    invoice = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": book["customer"]},
            "Line": [
                {
                    "Amount": "100.00",
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": book["item"]}},
                }
            ],
        },
    )
    payment = api.create(
        "Payment",
        {
            "CustomerRef": {"value": book["customer"]},
            "TotalAmt": "100.00",
            "Line": [
                {"Amount": "100.00", "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    assert Decimal(str(api.get(f"invoice/{invoice['Id']}").json()["Invoice"]["Balance"])) == 0
    voided = api.post(
        "payment",
        {"Id": payment["Id"], "SyncToken": payment["SyncToken"]},
        {"operation": "void"},
    )
    assert voided.status_code == 200, voided.text
    reopened = api.get(f"invoice/{invoice['Id']}").json()["Invoice"]
    assert Decimal(str(reopened["Balance"])) == Decimal("100.00")
    assert not [t for t in reopened.get("LinkedTxn", []) if t.get("TxnId") == payment["Id"]]
