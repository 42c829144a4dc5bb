"""The /query and /cdc endpoints (query language itself: test_query.py, not ours)."""

from __future__ import annotations

from datetime import timedelta

import requests

from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body


def test_query_get_and_post_as_application_text(api: Api, book: dict[str, str]) -> None:
    for n in range(3):
        api.create("Bill", bill_body(book, 10 + n, DocNumber=f"D-{n}"))
    got = api.get("query", params={"query": "select * from Bill ORDER BY DocNumber DESC"})
    assert got.status_code == 200
    rows = got.json()["QueryResponse"]["Bill"]
    assert [r["DocNumber"] for r in rows] == ["D-2", "D-1", "D-0"]
    page = api.query("SELECT * FROM Bill ORDERBY Id STARTPOSITION 2 MAXRESULTS 1")
    assert page["startPosition"] == 2
    assert page["maxResults"] == 1
    assert api.query("SELECT COUNT(*) FROM Bill") == {"totalCount": 3}
    assert api.query("SELECT * FROM Bill WHERE DocNumber = 'nope'") == {}
    assert "time" in got.json()


def test_query_escaped_quote(api: Api) -> None:
    api.create("Vendor", {"DisplayName": "O'Brien Framing"})
    rows = api.query("SELECT * FROM Vendor WHERE DisplayName = 'O\\'Brien Framing'")["Vendor"]
    assert rows[0]["DisplayName"] == "O'Brien Framing"


def test_query_parse_error_is_a_fault(api: Api) -> None:
    resp = api.get("query", params={"query": "SELECT * FROM Bill WHERE A = 1 OR B = 2"})
    assert resp.status_code == 400
    err = resp.json()["Fault"]["Error"][0]
    assert err["code"] == "4000"
    assert isinstance(err["Detail"], str)
    unknown = api.get("query", params={"query": "SELECT * FROM Spaceship"})
    assert unknown.json()["Fault"]["Error"][0]["code"] == "4000"


def test_cdc_returns_changes_and_deleted_stubs(
    api: Api, book: dict[str, str], sandbox_server
) -> None:
    start = sandbox_server.sandbox.clock.now() - timedelta(seconds=1)
    kept = api.create("Bill", bill_body(book))
    gone = api.create("Bill", bill_body(book))
    api.post("bill", {"Id": gone["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    since = start.astimezone(sandbox_server.sandbox.clock.company_tz).isoformat()
    resp = api.get("cdc", params={"entities": "Bill,Purchase", "changedSince": since})
    assert resp.status_code == 200
    body = resp.json()
    groups = body["CDCResponse"][0]["QueryResponse"]
    bills = groups[0]["Bill"]
    assert {b["Id"] for b in bills} == {kept["Id"], gone["Id"]}
    stub = next(b for b in bills if b["Id"] == gone["Id"])
    assert stub["status"] == "Deleted"
    assert set(stub) == {"domain", "status", "Id", "MetaData"}
    assert groups[0]["totalCount"] == 2
    assert groups[1] == {}


def test_cdc_changed_since_without_offset_is_company_time(
    api: Api, book: dict[str, str], sandbox_server
) -> None:
    clock = sandbox_server.sandbox.clock
    api.create("Bill", bill_body(book))
    local_past = clock.local(clock.now() - timedelta(minutes=5)).replace(tzinfo=None)
    local_future = clock.local(clock.now() + timedelta(minutes=5)).replace(tzinfo=None)
    past = api.get(
        "cdc", params={"entities": "Bill", "changedSince": local_past.isoformat(timespec="seconds")}
    )
    assert len(past.json()["CDCResponse"][0]["QueryResponse"][0]["Bill"]) == 1
    future = api.get(
        "cdc",
        params={"entities": "Bill", "changedSince": local_future.isoformat(timespec="seconds")},
    )
    assert future.json()["CDCResponse"][0]["QueryResponse"] == [{}]


def test_cdc_older_than_30_days_is_refused(api: Api, sandbox_server) -> None:
    old = sandbox_server.sandbox.clock.now() - timedelta(days=31)
    resp = api.get("cdc", params={"entities": "Bill", "changedSince": old.isoformat()})
    assert resp.status_code == 400
    assert "Fault" in resp.json()
    assert isinstance(resp.json()["Fault"]["Error"][0]["code"], str)


def test_cdc_caps_at_1000_objects(api: Api, book: dict[str, str], sandbox_server) -> None:
    realm = sandbox_server.sandbox.realm(api.realm_id)
    for n in range(1005):
        realm.insert("Vendor", {"DisplayName": f"Vendor {n}"})
    since = (sandbox_server.sandbox.clock.now() - timedelta(hours=1)).isoformat()
    resp = api.get("cdc", params={"entities": "Vendor,Customer", "changedSince": since})
    groups = resp.json()["CDCResponse"][0]["QueryResponse"]
    assert len(groups[0]["Vendor"]) == 1000
    assert groups[0]["totalCount"] > 1000
    # Customers changed too but none fitted: said by the count, never an empty `{}`.
    assert groups[1]["Customer"] == []
    assert groups[1]["totalCount"] >= 1


def test_clock_control_moves_metadata_times(api: Api, book: dict[str, str], sandbox_server) -> None:
    url = f"{sandbox_server.url}/_sandbox/clock"
    requests.post(url, json={"freeze": "2026-03-01T18:00:00+00:00"}, timeout=5)
    try:
        bill = api.create("Bill", bill_body(book))
        assert bill["MetaData"]["CreateTime"] == "2026-03-01T10:00:00-08:00"
        assert bill["TxnDate"] == "2026-03-01"
        requests.post(url, json={"advance": 3600}, timeout=5)
        resp = api.post(
            "bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "later"}
        )
        assert resp.json()["Bill"]["MetaData"]["LastUpdatedTime"] == "2026-03-01T11:00:00-08:00"
        assert resp.json()["time"].startswith("2026-03-01T11:00:00.000-08:00")
    finally:
        requests.post(url, json={"reset": True}, timeout=5)
