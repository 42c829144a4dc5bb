"""Issue 20, item 4: the sandbox is strict by default, as Intuit; leniency only by switch.

XML unless JSON is asked for (test_fidelity_format.py), redirect URIs registered and matched
exactly, a bId once per batch, and voiding as Intuit does it.
"""

from __future__ import annotations

from typing import Any

import requests

from sandbox import SandboxServer
from sandbox.config import SandboxConfig
from tests.sandbox.conftest import REDIRECT
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import authorize
from tests.sandbox.conftest import registered_config


def _invoice(api: Api, book: dict[str, str], amount: int) -> dict[str, Any]:
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


def _void(api: Api, invoice: dict[str, Any]) -> requests.Response:
    body = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
    return api.post("invoice", body, params={"operation": "void"})


# -- redirect URIs ------------------------------------------------------------------------------


def test_the_default_client_accepts_no_unregistered_loopback_uri() -> None:
    with SandboxServer(SandboxConfig(), port=0, seed="empty") as srv:
        refused = authorize(srv, redirect_uri="http://127.0.0.1:5000/qbo/callback")
        assert refused.status_code == 400
        assert "redirect_uri is not registered" in refused.text


def test_a_registered_uri_is_matched_exactly() -> None:
    with SandboxServer(SandboxConfig(), port=0, seed="empty") as srv:
        added = requests.post(
            f"{srv.url}/_sandbox/redirect-uris", json={"redirect_uri": REDIRECT}, timeout=5
        )
        assert added.json()["redirect_uris"] == [REDIRECT]
        assert authorize(srv).status_code == 302
        for near in (REDIRECT + "/", REDIRECT.replace("127.0.0.1", "localhost"), REDIRECT + "?x=1"):
            assert authorize(srv, redirect_uri=near).status_code == 400, near


def test_lenient_redirect_uris_is_an_explicit_switch() -> None:
    with SandboxServer(SandboxConfig(lenient_redirect_uris=True), port=0, seed="empty") as srv:
        assert authorize(srv, redirect_uri="http://localhost:8123/anything").status_code == 302


def test_the_cli_registers_its_redirect_uris() -> None:
    from click.testing import CliRunner

    from core.cli import main

    out = CliRunner().invoke(main, ["sandbox", "--help"])
    assert "--redirect-uri" in out.output


# -- batch ids ----------------------------------------------------------------------------------


def _twice(api: Api) -> requests.Response:
    item = {"bId": "same", "Query": "SELECT * FROM Account"}
    return api.post("batch", {"BatchItemRequest": [item, dict(item)]})


def test_a_batch_repeating_a_bid_is_refused_whole(api: Api) -> None:
    resp = _twice(api)
    assert resp.status_code == 400
    error = resp.json()["Fault"]["Error"][0]
    assert error["element"] == "BatchItemRequest.bId"
    assert "same" in error["Detail"]


def test_lenient_batch_ids_is_an_explicit_switch() -> None:
    with SandboxServer(registered_config(lenient_batch_ids=True), seed="empty") as srv:
        resp = _twice(Api.connect(srv))
        assert resp.status_code == 200
        assert [r["bId"] for r in resp.json()["BatchItemResponse"]] == ["same", "same"]


# -- voiding ------------------------------------------------------------------------------------


def test_a_voided_invoice_cannot_be_voided_again(api: Api, book: dict[str, str]) -> None:
    voided = _void(api, _invoice(api, book, 120)).json()["Invoice"]
    again = _void(api, voided)
    assert again.status_code == 400
    assert again.json()["Fault"]["Error"][0]["code"] == "6000"


def test_voiding_an_invoice_unapplies_its_payment(api: Api, book: dict[str, str]) -> None:
    inv = _invoice(api, book, 300)
    pay = api.create(
        "Payment",
        {
            "CustomerRef": {"value": book["project"]},
            "TotalAmt": 300,
            "Line": [{"Amount": 300, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    current = api.get(f"invoice/{inv['Id']}").json()["Invoice"]
    voided = _void(api, current).json()["Invoice"]
    assert voided["LinkedTxn"] == []
    after = api.get(f"payment/{pay['Id']}").json()["Payment"]
    assert after["UnappliedAmt"] == 300
    assert after["Line"] == []
    assert int(after["SyncToken"]) == int(pay["SyncToken"]) + 1
