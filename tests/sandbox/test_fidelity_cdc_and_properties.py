"""Issue 10, bullets 1 and 2: CDC shows when it was cut; undefined properties never stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox import SandboxServer
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body


def _cdc(api: Api, entities: str, sandbox_server: SandboxServer) -> list[dict[str, Any]]:
    since = (sandbox_server.sandbox.clock.now() - timedelta(hours=1)).isoformat()
    resp = api.get("cdc", params={"entities": entities, "changedSince": since})
    assert resp.status_code == 200, resp.text
    groups: list[dict[str, Any]] = resp.json()["CDCResponse"][0]["QueryResponse"]
    return groups


def test_cdc_cut_at_the_cap_counts_every_entitys_changes(
    api: Api, sandbox_server: SandboxServer
) -> None:
    realm = sandbox_server.sandbox.realm(api.realm_id)
    for n in range(990):
        realm.insert("Vendor", {"DisplayName": f"Vendor {n}"})
    for n in range(30):
        realm.insert("Customer", {"DisplayName": f"Customer {n}"})
    vendors, customers, terms = _cdc(api, "Vendor,Customer,Term", sandbox_server)
    # §5: the cut answer holds exactly the cap; the entity that did not fit says so.
    assert len(vendors["Vendor"]) + len(customers["Customer"]) == 1000
    assert customers["totalCount"] == 30
    assert customers["maxResults"] == len(customers["Customer"]) == 10
    assert terms == {}


def test_cdc_entity_left_out_by_the_cap_is_not_an_empty_element(
    api: Api, sandbox_server: SandboxServer
) -> None:
    realm = sandbox_server.sandbox.realm(api.realm_id)
    for n in range(1001):
        realm.insert("Vendor", {"DisplayName": f"Vendor {n}"})
    realm.insert("Customer", {"DisplayName": "Late Customer"})
    vendors, customers = _cdc(api, "Vendor,Customer", sandbox_server)
    assert vendors["totalCount"] > len(vendors["Vendor"]) == 1000
    assert customers == {"Customer": [], "startPosition": 1, "maxResults": 0, "totalCount": 1}


def test_unknown_top_level_property_is_refused_with_2010(api: Api, book: dict[str, str]) -> None:
    resp = api.post("bill", bill_body(book, Colour="red"))
    assert resp.status_code == 400
    error = resp.json()["Fault"]["Error"][0]
    assert (error["code"], error["element"]) == ("2010", "Colour")
    assert api.query("SELECT COUNT(*) FROM Bill") == {"totalCount": 0}


def test_unknown_nested_property_is_refused_at_any_depth(api: Api, book: dict[str, str]) -> None:
    body = bill_body(book)
    body["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]["colour"] = "red"
    resp = api.post("bill", body)
    assert resp.status_code == 400
    assert resp.json()["Fault"]["Error"][0]["element"] == (
        "Line.AccountBasedExpenseLineDetail.AccountRef.colour"
    )
    vendor = api.create("Vendor", {"DisplayName": "Nested Co"})
    sparse = {
        "Id": vendor["Id"],
        "SyncToken": vendor["SyncToken"],
        "sparse": True,
        "BillAddr": {"Line1": "1 Main", "Secret": {"a": 1}},
    }
    assert api.post("vendor", sparse).status_code == 400
    assert "Secret" not in str(api.get(f"vendor/{vendor['Id']}").json())


def test_empty_object_model_defaults_of_undefined_fields_are_dropped(api: Api) -> None:
    # §13: a shared base class serialises "Level": 0 and "Job": false on a vendor too.
    vendor = api.create("Vendor", {"DisplayName": "Defaults Co", "Level": 0, "Job": False})
    assert "Level" not in vendor
    assert "Job" not in vendor


def test_deep_nesting_never_breaks_later_queries_cdc_or_batch(
    api: Api, book: dict[str, str], sandbox_server: SandboxServer
) -> None:
    deep: dict[str, Any] = {"Line1": "x"}
    for _ in range(200):
        deep = {"Line1": deep}
    assert api.post("vendor", {"DisplayName": "Deep Co", "BillAddr": deep}).status_code == 400
    ext: dict[str, Any] = {}
    for _ in range(300):
        ext = {"any": [ext]}
    made = api.post("bill", bill_body(book, BillEx=ext))
    assert made.status_code == 200
    assert "BillEx" not in made.json()["Bill"]
    assert api.query("SELECT * FROM Bill")["Bill"]
    assert api.query("SELECT * FROM Vendor")["Vendor"]
    _cdc(api, "Bill,Vendor", sandbox_server)
    batch = api.post("batch", {"BatchItemRequest": [{"bId": "1", "Query": "SELECT * FROM Bill"}]})
    assert batch.status_code == 200
