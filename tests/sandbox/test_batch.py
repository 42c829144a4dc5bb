"""/batch: independent items by bId, per-item Faults, the 30-item limit."""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests

from costbridge_testing.shared import samples_dir
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body

SAMPLES = samples_dir()


def test_sample_batch_request_shape_is_answered_per_bid(api: Api, book: dict[str, str]) -> None:
    existing = api.create("Bill", bill_body(book))
    purchase = api.create(
        "Purchase",
        {
            "PaymentType": "Check",
            "AccountRef": {"value": book["bank"]},
            "Line": bill_body(book)["Line"],
        },
    )
    api.create("Vendor", {"DisplayName": "O'Brien Framing"})
    body = json.loads((SAMPLES / "batch.request.json").read_text())
    items = body["BatchItemRequest"]
    items[0]["Bill"]["VendorRef"]["value"] = book["vendor"]
    detail = items[0]["Bill"]["Line"][0]["AccountBasedExpenseLineDetail"]
    detail["AccountRef"]["value"] = book["lumber"]
    detail["CustomerRef"]["value"] = book["project"]
    items[1]["Bill"]["Id"] = existing["Id"]
    items[2]["Purchase"]["Id"] = purchase["Id"]  # SyncToken "5" is stale
    resp = api.post("batch", body)
    assert resp.status_code == 200
    out = {item["bId"]: item for item in resp.json()["BatchItemResponse"]}
    assert out["b1"]["Bill"]["TotalAmt"] == 310.0
    assert out["b2"]["Bill"]["PrivateNote"] == "updated via batch"
    assert out["b2"]["Bill"]["SyncToken"] == "1"
    assert out["b3"]["Fault"]["Error"][0]["code"] == "5010"
    assert out["b3"]["Fault"]["type"] == "ValidationFault"
    assert out["b4"]["QueryResponse"]["Vendor"][0]["DisplayName"] == "O'Brien Framing"
    expected = json.loads((SAMPLES / "batch.response.json").read_text())
    assert set(resp.json()) == set(expected)
    assert set(out["b3"]) == set(expected["BatchItemResponse"][2])


def test_batch_items_are_independent_and_bids_arbitrary(api: Api, book: dict[str, str]) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    body = {
        "BatchItemRequest": [
            {"bId": ids[0], "operation": "create", "Bill": bill_body(book)},
            {
                "bId": ids[1],
                "operation": "create",
                "Bill": bill_body(book, VendorRef={"value": "9"}),
            },
            {"bId": ids[2], "operation": "create", "Vendor": {"DisplayName": "Batch Vendor"}},
        ]
    }
    resp = api.post("batch", body)
    out = {i["bId"]: i for i in resp.json()["BatchItemResponse"]}
    assert "Bill" in out[ids[0]]
    assert out[ids[1]]["Fault"]["Error"][0]["code"] == "2500"
    assert out[ids[2]]["Vendor"]["DisplayName"] == "Batch Vendor"
    assert len(api.state("Bill")["entities"]["Bill"]) == 1


def test_batch_delete_and_query_items(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book))
    resp = api.post(
        "batch",
        {
            "BatchItemRequest": [
                {"bId": "d", "operation": "delete", "Bill": {"Id": bill["Id"], "SyncToken": "0"}},
                {"bId": "q", "Query": "SELECT COUNT(*) FROM Bill"},
            ]
        },
    )
    out = {i["bId"]: i for i in resp.json()["BatchItemResponse"]}
    assert out["d"]["Bill"]["status"] == "Deleted"
    assert out["q"]["QueryResponse"] == {"totalCount": 0}


def test_more_than_30_items_is_a_fault_and_runs_nothing(api: Api, book: dict[str, str]) -> None:
    items = [{"bId": str(n), "operation": "create", "Bill": bill_body(book)} for n in range(31)]
    resp = api.post("batch", {"BatchItemRequest": items})
    assert resp.status_code == 400
    assert resp.json()["Fault"]["Error"][0]["code"] == "1040"
    assert api.state("Bill")["entities"]["Bill"] == []


def test_batch_counts_as_batch_for_throttling(api: Api, sandbox_server) -> None:
    url = f"{sandbox_server.url}/_sandbox/throttle"
    requests.post(url, json={"batch_per_minute": 1, "reset": True}, timeout=5)
    try:
        item = {"BatchItemRequest": [{"bId": "1", "Query": "SELECT * FROM Bill"}]}
        assert api.post("batch", item).status_code == 200
        throttled = api.post("batch", item)
        assert throttled.status_code == 429
        # Intuit's gateway answers a 429 in XML even to a JSON client (API.md §3.3).
        assert 'code="3001"' in throttled.text
        assert api.get("query", params={"query": "SELECT * FROM Bill"}).status_code == 200
    finally:
        requests.post(url, json={"batch_per_minute": 40, "reset": True}, timeout=5)


def _vendor_items(*bids: str) -> dict[str, Any]:
    return {
        "BatchItemRequest": [
            {"bId": bid, "operation": "create", "Vendor": {"DisplayName": f"Batch {bid}"}}
            for bid in bids
        ]
    }


def test_batch_requestid_over_36_characters_is_2050(api: Api) -> None:
    resp = api.post("batch", _vendor_items("b1"), params={"requestid": "r" * 37})
    assert resp.status_code == 400
    assert resp.json()["Fault"]["Error"][0]["code"] == "2050"
    assert api.state("Vendor")["entities"]["Vendor"] == []
    ok = api.post("batch", _vendor_items("b1"), params={"requestid": "r" * 36})
    assert ok.status_code == 200


def test_long_bid_with_a_requestid_refuses_the_whole_batch(api: Api) -> None:
    resp = api.post(
        "batch", _vendor_items("short", "b" * 11), params={"requestid": str(uuid.uuid4())}
    )
    assert resp.status_code == 400
    [error] = resp.json()["Fault"]["Error"]
    assert (error["code"], error["element"]) == ("2050", "BatchItemRequest.bId")
    assert api.state("Vendor")["entities"]["Vendor"] == []


def test_long_bids_are_fine_without_a_requestid(api: Api) -> None:
    bid = str(uuid.uuid4())  # §13: clients often use 36-character UUIDs
    resp = api.post("batch", _vendor_items(bid))
    assert resp.status_code == 200
    assert resp.json()["BatchItemResponse"][0]["bId"] == bid
