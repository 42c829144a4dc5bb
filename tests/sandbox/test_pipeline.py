"""The request pipeline: envelope, headers, auth, realms, chaos, counters, change events."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body
from tests.sandbox.conftest import get_token
from tests.sandbox.conftest import registered_config

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


def test_every_response_has_time_and_intuit_tid(api: Api, book: dict[str, str]) -> None:
    ok = api.get(f"vendor/{book['vendor']}")
    bad = api.get("vendor/0")
    for resp in (ok, bad):
        assert TIME_RE.match(resp.json()["time"])
        assert resp.headers["intuit_tid"]
    assert ok.headers["intuit_tid"] != bad.headers["intuit_tid"]
    assert ok.json()["Vendor"]["MetaData"]["CreateTime"][-6:] in ("-07:00", "-08:00")


def test_json_without_accept_header(api: Api, book: dict[str, str]) -> None:
    # Issue 20: as Intuit, no Accept header means an XML answer (API.md §1.1).
    resp = requests.get(
        f"{api.base}/vendor/{book['vendor']}",
        timeout=10,
        headers={"Authorization": api.session.headers["Authorization"]},
    )
    assert resp.headers["Content-Type"].startswith("application/xml")
    assert f"<Id>{book['vendor']}</Id>" in resp.text


def test_missing_and_expired_tokens_are_401(api: Api, sandbox_server) -> None:
    anon = requests.get(
        f"{api.base}/preferences", headers={"Accept": "application/json"}, timeout=10
    )
    assert anon.status_code == 401
    assert anon.json()["Fault"]["Error"][0]["code"] == "3200"
    assert api.get("preferences").status_code == 200
    requests.post(
        f"{sandbox_server.url}/_sandbox/tokens/expire", json={"realm_id": api.realm_id}, timeout=5
    )
    assert api.get("preferences").status_code == 401


def test_token_for_another_company_is_refused(api: Api, sandbox_server) -> None:
    other = requests.post(
        f"{sandbox_server.url}/_sandbox/seed", json={"kind": "empty"}, timeout=10
    ).json()["realm_id"]
    resp = api.session.get(f"{sandbox_server.url}/v3/company/{other}/preferences", timeout=10)
    assert resp.status_code in (401, 403)
    assert "Fault" in resp.json()


def test_unknown_realm_is_refused(sandbox_server) -> None:
    resp = requests.get(
        f"{sandbox_server.url}/v3/company/123/preferences",
        timeout=10,
        headers={"Authorization": "Bearer nope", "Accept": "application/json"},
    )
    assert resp.status_code in (401, 403)
    assert "Fault" in resp.json()


def test_injected_fault_runs_before_the_handler(
    api: Api, book: dict[str, str], sandbox_server
) -> None:
    url = f"{sandbox_server.url}/_sandbox/faults"
    assert requests.post(url, json={"status": 503, "count": 1}, timeout=5).status_code == 200
    try:
        resp = api.post("bill", bill_body(book))
        assert resp.status_code == 503
        assert "Fault" in resp.json()
        assert api.state("Bill")["entities"]["Bill"] == []
    finally:
        requests.delete(url, timeout=5)
    assert api.post("bill", bill_body(book)).status_code == 200


def test_counters_and_control_reads(api: Api, book: dict[str, str], sandbox_server) -> None:
    api.create("Bill", bill_body(book))
    counters = requests.get(f"{sandbox_server.url}/_sandbox/counters", timeout=5).json()
    assert counters[f"requests:{api.realm_id}"] >= 1
    assert counters["entity:Bill:Create"] >= 1
    assert counters["status:200"] >= 1
    for path in ("oauth", "throttle", "webhooks", "faults"):
        assert requests.get(f"{sandbox_server.url}/_sandbox/{path}", timeout=5).status_code == 200
    assert (
        requests.post(
            f"{sandbox_server.url}/_sandbox/throttle", json={"bogus": 1}, timeout=5
        ).status_code
        == 400
    )


@pytest.fixture
def events(sandbox_server) -> Iterator[list[tuple[Any, ...]]]:
    seen: list[tuple[Any, ...]] = []

    def listener(*args: Any) -> None:
        seen.append(args)

    sandbox_server.sandbox.add_change_listener(listener)
    yield seen
    sandbox_server.sandbox.remove_change_listener(listener)


def test_changes_reach_listeners_and_seed_inserts_do_not(
    api: Api, book: dict[str, str], sandbox_server, events: list
) -> None:
    bill = api.create("Bill", bill_body(book))
    api.post("bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "DocNumber": "1"})
    api.post("bill", {"Id": bill["Id"], "SyncToken": "1"}, params={"operation": "delete"})
    api.post("bill", bill_body(book, VendorRef={"value": "0"}))  # refused: no event
    sandbox_server.sandbox.realm(api.realm_id).insert("Vendor", {"DisplayName": "Seeded"})
    ops = [(e[0], e[1], e[2], e[3]) for e in events]
    assert ops == [(api.realm_id, "Bill", bill["Id"], op) for op in ("Create", "Update", "Delete")]


def test_reset_forgets_realms(sandbox_server) -> None:
    from sandbox import SandboxServer

    with SandboxServer(registered_config(), port=0, seed="empty") as other:
        base = other.url
        assert other.realm_id is not None
        assert requests.post(f"{other.url}/_sandbox/reset", timeout=5).status_code == 200
        assert requests.get(f"{other.url}/_sandbox/state", timeout=5).json() == {"realms": []}
        realm = requests.post(
            f"{other.url}/_sandbox/seed", json={"kind": "empty", "realm_id": "4242"}, timeout=5
        ).json()
        assert realm == {"realm_id": "4242"}
        token = get_token(other, "4242")
        resp = requests.get(
            f"{other.url}/v3/company/4242/companyinfo/4242",
            timeout=5,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert resp.json()["CompanyInfo"]["Id"] == "1"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/_sandbox/state", timeout=2)


def test_concurrent_writes_get_unique_ids(api: Api, book: dict[str, str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(n: int) -> str:
        resp = api.session.post(f"{api.base}/bill", data=_json(bill_body(book, n + 1)), timeout=30)
        assert resp.status_code == 200, resp.text
        return str(resp.json()["Bill"]["Id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(40)))
    assert len(set(ids)) == 40
    assert api.query("SELECT COUNT(*) FROM Bill") == {"totalCount": 40}


def test_batch_over_payload_limit_is_a_fault(
    api: Api, book: dict[str, str], sandbox_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_server.sandbox.config, "max_request_bytes", 4096)
    items = [
        {"bId": str(n), "operation": "create", "Bill": bill_body(book, PrivateNote="x" * 300)}
        for n in range(20)
    ]
    resp = api.post("batch", {"BatchItemRequest": items})
    assert resp.status_code == 413
    assert "Fault" in resp.json()
    assert api.state("Bill")["entities"]["Bill"] == []


def _json(body: Any) -> str:
    import json

    return json.dumps(body)
