"""Bad input never crashes the server nor changes state (checked via the control API)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body


def _snapshot(api: Api) -> dict[str, Any]:
    return api.state()


def _assert_qbo_fault(resp: requests.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"Fault", "time"}
    err = body["Fault"]["Error"][0]
    assert isinstance(err["code"], str)
    assert err["code"].isdigit()
    return err


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"[1, 2]",
        b'{"VendorRef": ',
        b"NaN",
        b'"just a string"',
        b"[" * 100000,
    ],
)
def test_malformed_json_is_a_fault_and_changes_nothing(
    api: Api, book: dict[str, str], raw: bytes
) -> None:
    before = _snapshot(api)
    _assert_qbo_fault(api.post("bill", data=raw), 400)
    assert _snapshot(api) == before


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b["Line"][0].__setitem__("Amount", "abc"),
        lambda b: b.__setitem__("Line", "not a list"),
        lambda b: b.__setitem__("Line", [1, 2]),
        lambda b: b.__setitem__("VendorRef", "56"),
        lambda b: b.__setitem__("TxnDate", 20240101),
        lambda b: b["Line"][0].__setitem__("AccountBasedExpenseLineDetail", []),
        lambda b: b["Line"][0].__setitem__("DetailType", "Nonsense"),
        lambda b: b["Line"][0].__setitem__("Amount", True),
    ],
)
def test_wrong_types_are_faults_and_change_nothing(
    api: Api, book: dict[str, str], mutate: Any
) -> None:
    body = bill_body(book)
    mutate(body)
    before = _snapshot(api)
    err = _assert_qbo_fault(api.post("bill", body), 400)
    assert err["code"] in {"2010", "2020", "2170", "2500"}
    assert _snapshot(api) == before


def test_failed_update_leaves_object_untouched(api: Api, book: dict[str, str]) -> None:
    bill = api.create("Bill", bill_body(book))
    before = _snapshot(api)
    body = dict(
        bill,
        Line=[
            {
                "Amount": "abc",
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {},
            }
        ],
    )
    _assert_qbo_fault(api.post("bill", body), 400)
    assert _snapshot(api) == before


def test_non_utf8_body_is_fault_500_unsupported_operation(api: Api, book: dict[str, str]) -> None:
    before = _snapshot(api)
    err = _assert_qbo_fault(api.post("bill", data='{"PrivateNote": "café"}'.encode("latin-1")), 400)
    assert err["code"] == "500"
    assert err["Message"] == "Unsupported Operation"
    assert _snapshot(api) == before


def test_oversized_body_is_a_qbo_fault(
    api: Api, book: dict[str, str], sandbox_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_server.sandbox.config, "max_request_bytes", 2048)
    before = _snapshot(api)
    body = bill_body(book, PrivateNote="x" * 5000)
    resp = api.post("bill", body)
    _assert_qbo_fault(resp, 413)
    assert _snapshot(api) == before


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "spaceship/1", 404),
        ("POST", "spaceship", 404),
        ("GET", "bill/1/extra", 404),
        ("DELETE", "bill", 405),
        ("GET", "", 404),
    ],
)
def test_unknown_paths_get_qbo_shaped_errors(api: Api, method: str, path: str, status: int) -> None:
    resp = api.session.request(method, f"{api.base}/{path}", timeout=10)
    _assert_qbo_fault(resp, status)


def test_paths_outside_v3_get_qbo_shaped_404(sandbox_server) -> None:
    resp = requests.get(
        f"{sandbox_server.url}/v3/nothing/here",
        headers={"Accept": "application/json"},
        timeout=10,
    )
    _assert_qbo_fault(resp, 404)


def test_unexpected_exception_is_system_fault_and_server_lives(
    api: Api, book: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox import txn_rules

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("bug")

    before = _snapshot(api)
    monkeypatch.setattr(txn_rules, "_due_date", boom)
    err = _assert_qbo_fault(api.post("bill", bill_body(book)), 500)
    assert err["code"] == "10000"
    assert _snapshot(api) == before
    monkeypatch.undo()
    assert api.post("bill", bill_body(book)).status_code == 200
