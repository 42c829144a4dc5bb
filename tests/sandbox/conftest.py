"""Fixtures: one sandbox server per session, a fresh company and a real OAuth token per test."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlparse

import pytest
import requests

from sandbox import SandboxServer
from sandbox.config import SandboxConfig

CLIENT_ID = "costbridge-dev"
CLIENT_SECRET = "costbridge-dev-secret"
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """The sandbox, started once on a free port with no company."""
    server = SandboxServer(SandboxConfig(), port=0, seed="none")
    with server:
        yield server


class Api:
    """A tiny QBO client: Bearer token, JSON headers and minorversion=75 on every call."""

    def __init__(self, server: SandboxServer, realm_id: str, token: str) -> None:
        self.server = server
        self.realm_id = realm_id
        self.base = f"{server.url}/v3/company/{realm_id}"
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                # §13: clients send it on GETs too.
                "Content-Type": "application/json",
            }
        )

    def _params(self, params: dict[str, Any] | None) -> dict[str, Any]:
        return {"minorversion": "75", **(params or {})}

    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> requests.Response:
        """GET ``/v3/company/<realm>/<path>``."""
        return self.session.get(
            f"{self.base}/{path}", params=self._params(params), timeout=30, **kw
        )

    def post(
        self, path: str, body: Any = None, params: dict[str, Any] | None = None, **kw: Any
    ) -> requests.Response:
        """POST a JSON body (or raw ``data=``) to ``/v3/company/<realm>/<path>``."""
        if body is not None:
            kw["data"] = _dumps(body)
        return self.session.post(
            f"{self.base}/{path}", params=self._params(params), timeout=30, **kw
        )

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create and return the entity, asserting success."""
        resp = self.post(entity.lower(), body)
        assert resp.status_code == 200, resp.text
        return resp.json()[entity]

    def query(self, text: str) -> dict[str, Any]:
        """Run a query (POSTed as application/text) and return QueryResponse."""
        resp = self.post("query", data=text.encode(), headers={"Content-Type": "application/text"})
        assert resp.status_code == 200, resp.text
        return resp.json()["QueryResponse"]

    def state(self, entity: str | None = None) -> dict[str, Any]:
        """The raw store through the control API."""
        params = {"realm": self.realm_id, **({"entity": entity} if entity else {})}
        resp = requests.get(f"{self.server.url}/_sandbox/state", params=params, timeout=30)
        assert resp.status_code == 200
        return resp.json()


def _dumps(body: Any) -> str:
    import json

    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        raise TypeError(o)

    return json.dumps(body, default=default)


def get_token(server: SandboxServer, realm_id: str) -> str:
    """Run the real OAuth flow: authorize -> code on the redirect -> token endpoint."""
    disco = requests.get(f"{server.url}/.well-known/openid_sandbox_configuration", timeout=10)
    endpoints = disco.json()
    state = uuid.uuid4().hex
    resp = requests.get(
        endpoints["authorization_endpoint"],
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "scope": "com.intuit.quickbooks.accounting",
            "state": state,
            "realm_hint": realm_id,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 302, resp.text
    query = parse_qs(urlparse(resp.headers["Location"]).query)
    assert query["state"] == [state]
    assert query["realmId"] == [realm_id]
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    tok = requests.post(
        endpoints["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
        },
        headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        timeout=10,
    )
    assert tok.status_code == 200, tok.text
    return str(tok.json()["access_token"])


@pytest.fixture
def realm_id(sandbox: SandboxServer) -> str:
    """A fresh empty company (minimal chart of accounts) for this test."""
    resp = requests.post(f"{sandbox.url}/_sandbox/seed", json={"kind": "empty"}, timeout=30)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["realm_id"])


@pytest.fixture
def token(sandbox: SandboxServer, realm_id: str) -> str:
    """An access token for ``realm_id`` obtained through the OAuth flow."""
    return get_token(sandbox, realm_id)


@pytest.fixture
def api(sandbox: SandboxServer, realm_id: str, token: str) -> Api:
    """A client for this test's company."""
    return Api(sandbox, realm_id, token)


@pytest.fixture
def book(api: Api, sandbox: SandboxServer) -> dict[str, str]:
    """Names and accounts most tests need, created through the API; returns their Ids."""
    accounts = {a["Name"]: a["Id"] for a in api.query("SELECT * FROM Account")["Account"]}
    ids = {
        "ap": accounts["Accounts Payable (A/P)"],
        "bank": accounts["Operating Checking"],
        "materials": accounts["Job Materials"],
        "income": accounts["Construction Income"],
        "undeposited": accounts["Undeposited Funds"],
    }
    ids["lumber"] = api.create(
        "Account",
        {
            "Name": "Lumber",
            "AccountType": "Cost of Goods Sold",
            "SubAccount": True,
            "ParentRef": {"value": ids["materials"]},
        },
    )["Id"]
    ids["visa"] = api.create("Account", {"Name": "Visa", "AccountType": "Credit Card"})["Id"]
    ids["term"] = api.create("Term", {"Name": "Net 30", "DueDays": 30})["Id"]
    ids["vendor"] = api.create(
        "Vendor", {"DisplayName": "Hillside Lumber Supply", "TermRef": {"value": ids["term"]}}
    )["Id"]
    ids["customer"] = api.create("Customer", {"DisplayName": "Maple Street Remodel"})["Id"]
    # Projects cannot be created through v3 (API.md §11.9): insert one like the seed does.
    realm = sandbox.sandbox.realm(api.realm_id)
    ids["project"] = realm.insert(
        "Customer",
        {
            "DisplayName": "Kitchen Addition",
            "Job": True,
            "IsProject": True,
            "ParentRef": {"value": ids["customer"]},
            "Active": True,
        },
    )["Id"]
    ids["employee"] = api.create("Employee", {"GivenName": "Dana", "FamilyName": "Ortiz"})["Id"]
    ids["item"] = api.create(
        "Item",
        {
            "Name": "Equipment Rental",
            "Type": "Service",
            "IncomeAccountRef": {"value": ids["income"]},
            "ExpenseAccountRef": {"value": ids["materials"]},
        },
    )["Id"]
    ids["class"] = api.create("Class", {"Name": "Residential"})["Id"]
    return ids


def bill_body(book: dict[str, str], amount: float = 100.0, **extra: Any) -> dict[str, Any]:
    """A minimal valid Bill body."""
    return {
        "VendorRef": {"value": book["vendor"]},
        "Line": [
            {
                "Amount": amount,
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": book["lumber"]}},
            }
        ],
        **extra,
    }
