"""Per-entity rules: required fields, references, names, hierarchy, computed fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from costbridge_testing.shared import samples_dir
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body

SAMPLES = samples_dir()


def _fault(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 400, resp.text
    return resp.json()["Fault"]


def _assert_fault_like(resp: Any, sample: str) -> dict[str, Any]:
    """The Fault has the sample's keys, types and type; code is a string."""
    expected = json.loads((SAMPLES / sample).read_text())
    body = resp.json()
    assert set(body) == set(expected)
    fault = body["Fault"]
    assert fault["type"] == expected["Fault"]["type"]
    err = fault["Error"][0]
    want = expected["Fault"]["Error"][0]
    assert set(err) == set(want)
    assert all(isinstance(v, str) for v in err.values())
    assert err["code"] == want["code"]
    assert err["Message"] == want["Message"]
    return err


def test_missing_account_ref_is_2020_with_element(api: Api, book: dict[str, str]) -> None:
    body = bill_body(book)
    del body["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]
    err = _assert_fault_like(api.post("bill", body), "fault.validation.json")
    assert err["element"] == "Line.AccountBasedExpenseLineDetail.AccountRef"
    assert err["Detail"] == (
        "Required parameter Line.AccountBasedExpenseLineDetail.AccountRef is missing in the request"
    )


@pytest.mark.parametrize(
    ("entity", "body", "element"),
    [
        ("bill", {"Line": []}, "VendorRef"),
        ("purchase", {"AccountRef": {"value": "1"}}, "PaymentType"),
        ("invoice", {"Line": []}, "CustomerRef"),
        ("payment", {"CustomerRef": {"value": "1"}}, "TotalAmt"),
        ("timeactivity", {"NameOf": "Employee"}, "EmployeeRef"),
        ("item", {"Type": "Service"}, "Name"),
        ("term", {}, "Name"),
        ("class", {}, "Name"),
        ("attachable", {}, "Note"),
    ],
)
def test_required_fields_are_2020(
    api: Api, entity: str, body: dict[str, Any], element: str
) -> None:
    err = _fault(api.post(entity, body))["Error"][0]
    assert err["code"] == "2020"
    assert err["element"] == element


def test_client_sent_has_been_billed_is_2170(api: Api, book: dict[str, str]) -> None:
    body = bill_body(book)
    body["Line"][0]["AccountBasedExpenseLineDetail"]["BillableStatus"] = "HasBeenBilled"
    _assert_fault_like(api.post("bill", body), "fault.invalid-enum.json")
    assert api.state("Bill")["entities"]["Bill"] == []


def test_unknown_reference_is_2500_and_inactive_is_610(api: Api, book: dict[str, str]) -> None:
    err = _fault(api.post("bill", bill_body(book, VendorRef={"value": "424242"})))["Error"][0]
    assert err["code"] == "2500"
    assert err["element"] == "VendorRef"
    api.post("item", {"Id": book["item"], "SyncToken": "0", "sparse": True, "Active": False})
    body = bill_body(book)
    body["Line"] = [
        {
            "Amount": 10,
            "DetailType": "ItemBasedExpenseLineDetail",
            "ItemBasedExpenseLineDetail": {"ItemRef": {"value": book["item"]}},
        }
    ]
    _assert_fault_like(api.post("bill", body), "fault.object-not-found.json")


@pytest.mark.parametrize(("field", "entity"), [("CustomerRef", "Customer"), ("ClassRef", "Class")])
def test_line_references_are_checked(
    api: Api, book: dict[str, str], field: str, entity: str
) -> None:
    body = bill_body(book)
    body["Line"][0]["AccountBasedExpenseLineDetail"][field] = {"value": "777777"}
    err = _fault(api.post("bill", body))["Error"][0]
    assert err["code"] == "2500"
    assert err["element"] == f"Line.AccountBasedExpenseLineDetail.{field}"
    assert entity in err["Detail"]


def test_duplicate_display_name_across_customer_vendor_employee_is_6240(
    api: Api, book: dict[str, str]
) -> None:
    _assert_fault_like(
        api.post("customer", {"DisplayName": "hillside lumber supply"}), "fault.duplicate-name.json"
    )
    _assert_fault_like(
        api.post("employee", {"DisplayName": "Maple Street Remodel"}), "fault.duplicate-name.json"
    )
    assert (
        _fault(
            api.post(
                "item",
                {
                    "Name": "Equipment Rental",
                    "Type": "Service",
                    "IncomeAccountRef": {"value": book["income"]},
                },
            )
        )["Error"][0]["code"]
        == "6240"
    )
    assert (
        _fault(api.post("account", {"Name": "Visa", "AccountType": "Credit Card"}))["Error"][0][
            "code"
        ]
        == "6240"
    )


def test_display_name_is_derived_and_may_not_contain_colon(api: Api) -> None:
    emp = api.create("Employee", {"GivenName": "Lee", "FamilyName": "Park"})
    assert emp["DisplayName"] == "Lee Park"
    assert emp["PrintOnCheckName"] == "Lee Park"
    assert _fault(api.post("vendor", {"DisplayName": "A:B"}))["Error"][0]["element"] == (
        "DisplayName"
    )


def test_sub_customer_has_fully_qualified_name_and_level(api: Api, book: dict[str, str]) -> None:
    job = api.create(
        "Customer",
        {"DisplayName": "Bathroom", "Job": True, "ParentRef": {"value": book["customer"]}},
    )
    assert job["FullyQualifiedName"] == "Maple Street Remodel:Bathroom"
    assert job["Level"] == 1
    assert job["IsProject"] is False
    project = api.get(f"customer/{book['project']}").json()["Customer"]
    assert project["IsProject"] is True
    assert project["FullyQualifiedName"] == "Maple Street Remodel:Kitchen Addition"
    # A project keeps IsProject through an update that tries to change it.
    project["IsProject"] = False
    assert api.post("customer", project).json()["Customer"]["IsProject"] is True


def test_sub_item_and_sub_account_names(api: Api, book: dict[str, str]) -> None:
    parent = api.create(
        "Item",
        {"Name": "Construction", "Type": "Category", "IncomeAccountRef": {"value": book["income"]}},
    )
    child = api.create(
        "Item",
        {
            "Name": "Framing",
            "Type": "Service",
            "SubItem": True,
            "ParentRef": {"value": parent["Id"]},
            "IncomeAccountRef": {"value": book["income"]},
        },
    )
    assert child["FullyQualifiedName"] == "Construction:Framing"
    assert child["Level"] == 1
    lumber = api.get(f"account/{book['lumber']}").json()["Account"]
    assert lumber["FullyQualifiedName"] == "Job Materials:Lumber"
    assert lumber["Classification"] == "Expense"
    assert lumber["SubAccount"] is True


@pytest.mark.parametrize(
    ("acct_type", "classification"),
    [
        ("Bank", "Asset"),
        ("Credit Card", "Liability"),
        ("Equity", "Equity"),
        ("Income", "Revenue"),
        ("Expense", "Expense"),
    ],
)
def test_account_classification_is_derived(api: Api, acct_type: str, classification: str) -> None:
    acct = api.create(
        "Account",
        {"Name": f"Acct {acct_type}", "AccountType": acct_type, "Classification": "bogus"},
    )
    assert acct["Classification"] == classification


def test_purchase_account_must_match_payment_type(api: Api, book: dict[str, str]) -> None:
    body = {
        "PaymentType": "CreditCard",
        "AccountRef": {"value": book["bank"]},
        "Line": bill_body(book)["Line"],
    }
    _assert_fault_like(api.post("purchase", body), "fault.business-validation.json")
    body["AccountRef"] = {"value": book["visa"]}
    body["Credit"] = True
    body["EntityRef"] = {"value": book["vendor"], "type": "Vendor"}
    purchase = api.create("Purchase", body)
    assert purchase["Credit"] is True
    assert purchase["EntityRef"]["name"] == "Hillside Lumber Supply"
    assert purchase["TotalAmt"] == 100.0


def test_item_line_qty_times_price_must_match_amount(api: Api, book: dict[str, str]) -> None:
    body = bill_body(book)
    body["Line"] = [
        {
            "Amount": 480,
            "DetailType": "ItemBasedExpenseLineDetail",
            "ItemBasedExpenseLineDetail": {
                "ItemRef": {"value": book["item"]},
                "Qty": 4,
                "UnitPrice": 100,
            },
        }
    ]
    assert _fault(api.post("bill", body))["Error"][0]["code"] == "6070"
    body["Line"][0]["ItemBasedExpenseLineDetail"]["UnitPrice"] = 120
    assert api.create("Bill", body)["TotalAmt"] == 480


def test_money_is_exact_decimal(api: Api, book: dict[str, str]) -> None:
    body = bill_body(book)
    body["Line"] = [dict(body["Line"][0], Amount=0.1), dict(body["Line"][0], Amount=0.2)]
    resp = api.post("bill", body)
    assert '"TotalAmt":0.3' in resp.text


def _invoice(api: Api, book: dict[str, str], amount: int = 500) -> dict[str, Any]:
    return api.create(
        "Invoice",
        {
            "CustomerRef": {"value": book["project"]},
            "Line": [
                {
                    "Amount": amount,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": book["item"]}},
                }
            ],
        },
    )


def test_payment_reduces_invoice_balance_and_links_both_ways(
    api: Api, book: dict[str, str]
) -> None:
    inv = _invoice(api, book)
    assert inv["Balance"] == 500
    assert inv["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    pay = api.create(
        "Payment",
        {
            "CustomerRef": {"value": book["project"]},
            "TotalAmt": 300,
            "Line": [{"Amount": 200, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert pay["UnappliedAmt"] == 100
    assert pay["DepositToAccountRef"]["value"] == book["undeposited"]
    after = api.get(f"invoice/{inv['Id']}").json()["Invoice"]
    assert after["Balance"] == 300
    assert after["SyncToken"] == "1"
    assert after["LinkedTxn"] == [{"TxnId": pay["Id"], "TxnType": "Payment"}]
    too_much = api.post(
        "payment",
        {
            "CustomerRef": {"value": book["project"]},
            "TotalAmt": 400,
            "Line": [{"Amount": 400, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert _fault(too_much)["Error"][0]["code"] == "6000"
    voided = api.post(
        "payment",
        {"Id": pay["Id"], "SyncToken": "0"},
        params={"operation": "update", "include": "void"},
    ).json()["Payment"]
    assert voided["TotalAmt"] == 0
    assert api.get(f"invoice/{inv['Id']}").json()["Invoice"]["Balance"] == 500


def _bill_payment(api: Api, book: dict[str, str], bill_id: str, amount: int) -> requests.Response:
    return api.post(
        "billpayment",
        {
            "VendorRef": {"value": book["vendor"]},
            "PayType": "Check",
            "TotalAmt": amount,
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": bill_id, "TxnType": "Bill"}]}],
        },
    )


def test_bill_payment_reduces_bill_balance_and_links_it(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book, 100.0))
    resp = _bill_payment(api, book, bill["Id"], 40)
    assert resp.status_code == 200, resp.text
    pay = resp.json()["BillPayment"]
    assert pay["CheckPayment"]["BankAccountRef"]["value"] == book["bank"]
    after = api.get(f"bill/{bill['Id']}").json()["Bill"]
    assert (after["Balance"], after["SyncToken"]) == (60, "1")
    assert after["LinkedTxn"] == [{"TxnId": pay["Id"], "TxnType": "BillPayment"}]
    assert _fault(_bill_payment(api, book, bill["Id"], 61))["Error"][0]["code"] == "6000"
    edited = api.post(
        "bill", {"Id": bill["Id"], "SyncToken": "1", "sparse": True, "DocNumber": "7"}
    )
    assert edited.json()["Bill"]["Balance"] == 60
    assert api.query("SELECT * FROM BillPayment")["BillPayment"][0]["Id"] == pay["Id"]
    since = bill["MetaData"]["CreateTime"]
    cdc = api.get("cdc", {"entities": "BillPayment", "changedSince": since})
    changed = cdc.json()["CDCResponse"][0]["QueryResponse"][0]["BillPayment"]
    assert [p["Id"] for p in changed] == [pay["Id"]]
    refused = api.post("bill", {"Id": bill["Id"], "SyncToken": "2"}, params={"operation": "delete"})
    assert _fault(refused)["Error"][0]["code"] == "6000"
    gone = api.post(
        "billpayment", {"Id": pay["Id"], "SyncToken": "0"}, params={"operation": "delete"}
    )
    assert gone.status_code == 200, gone.text
    after = api.get(f"bill/{bill['Id']}").json()["Bill"]
    assert (after["Balance"], after.get("LinkedTxn")) == (100, None)


def test_invoice_void_zeroes_amounts(api: Api, book: dict[str, str]) -> None:
    inv = _invoice(api, book)
    resp = api.post("invoice", {"Id": inv["Id"], "SyncToken": "0"}, params={"operation": "void"})
    voided = resp.json()["Invoice"]
    assert voided["TotalAmt"] == 0
    assert voided["Balance"] == 0
    assert voided["SyncToken"] == "1"


def test_time_activity_sample_request_is_accepted(api: Api, book: dict[str, str]) -> None:
    body = json.loads((SAMPLES / "timeactivity.create.request.json").read_text())
    body["VendorRef"]["value"] = book["vendor"]
    body["CustomerRef"]["value"] = book["project"]
    body["ItemRef"]["value"] = book["item"]
    ta = api.create("TimeActivity", body)
    assert ta["NameOf"] == "Vendor"
    assert ta["StartTime"] == "2024-05-14T07:00:00-07:00"
    hours = api.post(
        "timeactivity",
        {
            "NameOf": "Employee",
            "EmployeeRef": {"value": book["employee"]},
            "Hours": 7,
            "Minutes": 30,
            "BillableStatus": "Billable",
            "HourlyRate": 85,
        },
    )
    assert hours.json()["TimeActivity"]["Hours"] == 7


def test_companyinfo_and_preferences(api: Api) -> None:
    info = api.get(f"companyinfo/{api.realm_id}").json()["CompanyInfo"]
    assert info["Id"] == "1"
    assert info["Country"] == "US"
    prefs = api.get("preferences").json()["Preferences"]
    assert "AccountingInfoPrefs" in prefs
    upd = api.post(
        "preferences",
        {
            "Id": "1",
            "SyncToken": prefs["SyncToken"],
            "sparse": True,
            "AccountingInfoPrefs": {"ClassTrackingPerTxn": True},
        },
    )
    assert upd.json()["Preferences"]["SyncToken"] == "1"


def test_note_only_attachable(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book))
    note = api.create(
        "Attachable",
        {
            "Note": "Lien waiver received",
            "AttachableRef": [{"EntityRef": {"type": "Bill", "value": bill["Id"]}}],
        },
    )
    assert len(note["Id"]) > 15
    assert note["AttachableRef"][0]["IncludeOnSend"] is False
    bad = api.post(
        "attachable",
        {"Note": "x", "AttachableRef": [{"EntityRef": {"type": "Bill", "value": "99999"}}]},
    )
    assert _fault(bad)["Error"][0]["code"] == "2500"


def test_voided_invoice_and_billed_lines_survive_a_full_update_echo(
    api: Api, book: dict[str, str], sandbox_server
) -> None:
    inv = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": book["project"]},
            "Line": [
                {
                    "Amount": 40,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": book["item"]},
                        "Qty": 2,
                        "UnitPrice": 20,
                    },
                }
            ],
        },
    )
    voided = api.post(
        "invoice", {"Id": inv["Id"], "SyncToken": "0"}, params={"operation": "void"}
    ).json()["Invoice"]
    assert api.post("invoice", voided).status_code == 200
    # QBO marks a cost line HasBeenBilled itself; echoing that line back is no 2170.
    body = bill_body(book)
    body["Line"][0]["AccountBasedExpenseLineDetail"]["BillableStatus"] = "HasBeenBilled"
    billed = sandbox_server.sandbox.realm(api.realm_id).insert("Bill", body)
    echo = api.get(f"bill/{billed['Id']}").json()["Bill"]
    assert api.post("bill", echo).status_code == 200


def test_deleting_a_payment_reopens_the_invoice(api: Api, book: dict[str, str]) -> None:
    inv = _invoice(api, book, 250)
    pay = api.create(
        "Payment",
        {
            "CustomerRef": {"value": book["project"]},
            "TotalAmt": 250,
            "Line": [{"Amount": 250, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert api.get(f"invoice/{inv['Id']}").json()["Invoice"]["Balance"] == 0
    refused = api.post(
        "invoice", {"Id": inv["Id"], "SyncToken": "1"}, params={"operation": "delete"}
    )
    assert _fault(refused)["Error"][0]["code"] == "6000"
    api.post("payment", {"Id": pay["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    reopened = api.get(f"invoice/{inv['Id']}").json()["Invoice"]
    assert reopened["Balance"] == 250
    assert reopened["LinkedTxn"] == []
