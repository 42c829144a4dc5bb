"""Create, read, update, delete and void over HTTP."""

from __future__ import annotations

from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body


def test_bill_create_computes_totals_and_names(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book, 100.5))
    assert bill["Id"].isdigit()
    assert bill["SyncToken"] == "0"
    assert bill["TotalAmt"] == 100.5
    assert bill["Balance"] == 100.5
    assert bill["Line"][0]["Id"] == "1"
    assert bill["Line"][0]["LineNum"] == 1
    assert bill["VendorRef"]["name"] == "Hillside Lumber Supply"
    assert bill["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]["name"] == (
        "Job Materials:Lumber"
    )
    assert bill["APAccountRef"]["value"] == book["ap"]
    assert bill["domain"] == "QBO"
    assert bill["sparse"] is False


def test_read_returns_stored_bill_and_unknown_id_is_610(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book))
    resp = api.get(f"bill/{bill['Id']}")
    assert resp.status_code == 200
    assert resp.json()["Bill"] == bill
    missing = api.get("bill/999999")
    assert missing.status_code == 400
    assert missing.json()["Fault"]["Error"][0]["code"] == "610"


def test_full_update_echoing_read_only_fields_bumps_synctoken(
    api: Api, book: dict[str, str]
) -> None:
    bill = api.create("Bill", bill_body(book))
    bill["PrivateNote"] = "approved"
    bill["SyncToken"] = 0  # §13: some clients send it as a number
    updated = api.post("bill", bill).json()["Bill"]
    assert updated["SyncToken"] == "1"
    assert updated["PrivateNote"] == "approved"
    assert updated["MetaData"]["CreateTime"] == bill["MetaData"]["CreateTime"]
    assert updated["TotalAmt"] == 100.0


def test_full_update_clears_omitted_writable_fields(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book, PrivateNote="memo", DocNumber="A-1"))
    body = bill_body(book, Id=bill["Id"], SyncToken="0")
    updated = api.post("bill", body).json()["Bill"]
    assert "PrivateNote" not in updated
    assert "DocNumber" not in updated


def test_sparse_update_keeps_other_fields_and_line_ids(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book, DocNumber="INV-1"))
    resp = api.post(
        "bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "sparse"}
    )
    updated = resp.json()["Bill"]
    assert updated["DocNumber"] == "INV-1"
    assert updated["PrivateNote"] == "sparse"
    assert updated["Line"] == bill["Line"]
    lines = updated["Line"] + [dict(bill_body(book, 5)["Line"][0])]
    again = api.post(
        "bill", {"Id": bill["Id"], "SyncToken": "1", "sparse": True, "Line": lines}
    ).json()["Bill"]
    assert [ln["Id"] for ln in again["Line"]] == ["1", "2"]
    assert again["TotalAmt"] == 105.0


def test_stale_synctoken_is_5010(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book))
    api.post("bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"})
    resp = api.post(
        "bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "y"}
    )
    assert resp.status_code == 400
    err = resp.json()["Fault"]["Error"][0]
    assert err["code"] == "5010"
    assert err["Message"] == "Stale Object Error"
    assert resp.json()["Fault"]["type"] == "ValidationFault"
    assert api.get(f"bill/{bill['Id']}").json()["Bill"]["PrivateNote"] == "x"


def test_delete_returns_stub_and_read_after_is_610(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book))
    resp = api.post("bill", {"Id": bill["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    assert resp.status_code == 200
    assert resp.json()["Bill"] == {"domain": "QBO", "status": "Deleted", "Id": bill["Id"]}
    assert api.get(f"bill/{bill['Id']}").json()["Fault"]["Error"][0]["code"] == "610"


def test_name_lists_cannot_be_deleted_only_deactivated(api: Api, book: dict[str, str]) -> None:
    resp = api.post(
        "vendor", {"Id": book["vendor"], "SyncToken": "0"}, params={"operation": "delete"}
    )
    assert resp.status_code == 400
    assert "Fault" in resp.json()
    off = api.post(
        "vendor", {"Id": book["vendor"], "SyncToken": "0", "sparse": True, "Active": False}
    ).json()["Vendor"]
    assert off["Active"] is False
    assert api.query("SELECT * FROM Vendor") == {}
    assert api.query("SELECT * FROM Vendor WHERE Active = false")["Vendor"][0]["Id"] == off["Id"]
    # A transaction may not use an inactive name: 610.
    resp = api.post("bill", bill_body(book))
    assert resp.json()["Fault"]["Error"][0]["code"] == "610"


def test_minorversion_and_content_type_on_get_are_accepted(api: Api, book: dict[str, str]) -> None:
    resp = api.get(f"vendor/{book['vendor']}", params={"minorversion": "4"})
    assert resp.status_code == 200
    assert resp.json()["Vendor"]["DisplayName"] == "Hillside Lumber Supply"


def test_empty_string_defaults_on_create_are_accepted(
    api: Api, book: dict[str, str], sandbox_server
) -> None:
    body = bill_body(
        book,
        TotalAmt="",
        TxnDate="",
        DueDate="",
        DocNumber="",
        Balance=0,
        ExchangeRate=0,
        SyncToken=0,
        sparse=False,
        domain="QBO",
        LinkedTxn=[],
        CustomField=[],
        Id="",
        SalesTermRef={"value": "", "name": "", "type": ""},
    )
    body["Line"][0]["LineNum"] = 0
    body["Line"][0]["AccountBasedExpenseLineDetail"]["CustomerRef"] = {
        "value": "",
        "name": "",
        "type": "",
    }
    bill = api.create("Bill", body)
    assert bill["TxnDate"] == sandbox_server.sandbox.clock.today()
    assert bill["TotalAmt"] == 100.0
    assert bill["Line"][0]["LineNum"] == 1
    assert "DocNumber" not in bill
    vendor = api.create(
        "Vendor",
        {
            "DisplayName": "Empty Fields Co",
            "GivenName": "",
            "CompanyName": "",
            "FullyQualifiedName": "",
            "Level": 0,
            "Job": False,
            "Balance": 0,
        },
    )
    assert vendor["DisplayName"] == "Empty Fields Co"


def test_due_date_defaults_from_vendor_terms(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book, TxnDate="2026-01-10"))
    assert bill["DueDate"] == "2026-02-09"


def test_requestid_replays_first_response_and_creates_nothing(
    api: Api, book: dict[str, str]
) -> None:
    first = api.post("bill", bill_body(book), params={"requestid": "abc-123"})
    second = api.post("bill", bill_body(book, 999), params={"requestid": "abc-123"})
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(api.state("Bill")["entities"]["Bill"]) == 1
    other = api.post("bill", bill_body(book), params={"requestid": "abc-124"})
    assert other.json()["Bill"]["Id"] != first.json()["Bill"]["Id"]


def test_requestid_replays_a_refused_request_identically(api: Api, book: dict[str, str]) -> None:
    bad = bill_body(book, VendorRef={"value": "0"})
    first = api.post("bill", bad, params={"requestid": "r-fault"})
    again = api.post("bill", bill_body(book), params={"requestid": "r-fault"})
    assert first.status_code == again.status_code == 400
    assert first.content == again.content
    assert api.state("Bill")["entities"]["Bill"] == []


def test_requestid_of_50_characters_is_accepted(api: Api, book: dict[str, str]) -> None:
    resp = api.post("bill", bill_body(book), params={"requestid": "r" * 50})
    assert resp.status_code == 200


def test_requestid_over_50_characters_is_2050_and_writes_nothing(
    api: Api, book: dict[str, str]
) -> None:
    resp = api.post("bill", bill_body(book), params={"requestid": "r" * 51})
    assert resp.status_code == 400
    [error] = resp.json()["Fault"]["Error"]
    assert (error["code"], error["element"]) == ("2050", "requestid")
    assert resp.json()["Fault"]["type"] == "ValidationFault"
    assert api.state("Bill")["entities"]["Bill"] == []
