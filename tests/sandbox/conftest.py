"""Fixtures and helpers for the sandbox tests.

Two kinds of server:

* ``sandbox_server``: one per session, started with no company; each test gets a fresh company
  (``sandbox_realm``), a real OAuth token (``token``) and a client for it (``api``).
* ``server``: one per test module, started with the empty company; every test gets it back
  with OAuth, chaos, throttle, webhooks and the clock reset, and ``sandbox_api`` is connected to it
  through consent (which picks that first company). Modules that steer those components use it,
  so a rule or a frozen clock cannot leak into the session server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
import requests

from sandbox import SandboxServer
from sandbox.config import DEV_CLIENT_ID
from sandbox.config import DEV_CLIENT_SECRET
from sandbox.config import OAuthClient
from sandbox.config import SandboxConfig

SCOPE = "com.intuit.quickbooks.accounting"
# Nothing listens here: the helpers read the redirect's Location instead of following it.
REDIRECT = "http://127.0.0.1:9/callback"
AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL path, not a secret


# -- OAuth over HTTP ----------------------------------------------------------------------------


def client_credentials(server: SandboxServer) -> tuple[str, str]:
    """The (client id, secret) of the server's first registered OAuth client."""
    client = server.sandbox.config.oauth_clients[0]
    return client.client_id, client.secret


def authorize(server: SandboxServer, **params: str) -> requests.Response:
    """GET the consent URL (not followed); ``params`` override the usual query."""
    client_id, _ = client_credentials(server)
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": REDIRECT,
        "state": "csrf-1",
        **params,
    }
    return requests.get(
        f"{server.url}{AUTHORIZE_PATH}?{urlencode(query)}", allow_redirects=False, timeout=5
    )


def callback(resp: requests.Response) -> dict[str, str]:
    """The query parameters of a consent redirect (asserting it is one)."""
    assert resp.status_code == 302, resp.text
    return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}


def token_call(server: SandboxServer, data: dict[str, str], auth: Any = None) -> requests.Response:
    """POST a form to the token endpoint with Basic client credentials (or ``auth``)."""
    return requests.post(
        f"{server.url}{TOKEN_PATH}",
        data=data,
        auth=auth if auth is not None else client_credentials(server),
        headers={"Accept": "application/json"},
        timeout=5,
    )


def connect(server: SandboxServer, realm_hint: str | None = None) -> tuple[dict[str, Any], str]:
    """Run the real OAuth flow: consent -> code on the redirect -> token endpoint.

    Args:
        server: The sandbox to connect to.
        realm_hint: The company to pick; None lets consent choose (the first company).

    Returns:
        The token endpoint's answer and the realm id from the redirect.
    """
    state = uuid.uuid4().hex
    cb = callback(
        authorize(server, state=state, **({"realm_hint": realm_hint} if realm_hint else {}))
    )
    assert cb["state"] == state
    if realm_hint is not None:
        assert cb["realmId"] == realm_hint
    tok = token_call(
        server,
        {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT},
    )
    assert tok.status_code == 200, tok.text
    return tok.json(), cb["realmId"]


def get_token(server: SandboxServer, realm_id: str) -> str:
    """An access token for ``realm_id``, obtained through the OAuth flow."""
    return str(connect(server, realm_id)[0]["access_token"])


# -- a connected client -------------------------------------------------------------------------


class Api:
    """A tiny QBO client: Bearer token, JSON headers and minorversion=75 on every call.

    Args:
        server: The sandbox.
        realm_id: The company the token is for.
        token: The access token.
        tokens: The whole token endpoint answer (refresh token included), when known.
    """

    def __init__(
        self,
        server: SandboxServer,
        realm_id: str,
        token: str,
        tokens: dict[str, Any] | None = None,
    ) -> None:
        self.server = server
        self.realm_id = realm_id
        self.tokens = tokens or {"access_token": token}
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

    @classmethod
    def connect(cls, server: SandboxServer, realm_hint: str | None = None) -> Api:
        """Connect through consent (see ``connect``) and return a client for that company."""
        tokens, realm_id = connect(server, realm_hint)
        return cls(server, realm_id, str(tokens["access_token"]), tokens)

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

    def read(self) -> requests.Response:
        """GET this company's CompanyInfo: the cheapest authenticated call."""
        return self.get(f"companyinfo/{self.realm_id}")

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

    def refresh(self) -> requests.Response:
        """POST a refresh_token grant with this client's current refresh token."""
        return token_call(
            self.server,
            {"grant_type": "refresh_token", "refresh_token": self.tokens["refresh_token"]},
        )

    def state(self, entity: str | None = None) -> dict[str, Any]:
        """The raw store through the control API."""
        params = {"realm": self.realm_id, **({"entity": entity} if entity else {})}
        resp = requests.get(f"{self.server.url}/_sandbox/state", params=params, timeout=30)
        assert resp.status_code == 200
        return resp.json()


def _dumps(body: Any) -> str:
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        raise TypeError(o)

    return json.dumps(body, default=default)


# -- servers ------------------------------------------------------------------------------------


def registered_config(**fields: Any) -> SandboxConfig:
    """A ``SandboxConfig`` whose dev client has this module's ``REDIRECT`` registered."""
    client = OAuthClient(DEV_CLIENT_ID, DEV_CLIENT_SECRET, (REDIRECT,))
    return SandboxConfig(oauth_clients=(client,), **fields)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """The sandbox, started once on a free port with no company."""
    server = SandboxServer(registered_config(), port=0, seed="none")
    with server:
        yield server


@pytest.fixture(scope="module")
def module_server() -> Iterator[SandboxServer]:
    """A sandbox for one test module, with the empty company; use ``server`` to get it."""
    with SandboxServer(registered_config(), port=0) as srv:
        yield srv


@pytest.fixture
def server(module_server: SandboxServer) -> Iterator[SandboxServer]:
    """This module's sandbox with tokens, faults, limits, webhooks and the clock reset."""
    sb = module_server.sandbox
    sb.oauth.reset()
    sb.chaos.clear()
    sb.throttle.reset()
    sb.clock.reset()
    sb.webhooks.reset()
    sb.webhooks.start()
    yield module_server
    # Settle deliveries so one test's webhook cannot arrive during the next.
    sb.webhooks.configure(url="")
    sb.webhooks.wait_idle(5)


@pytest.fixture
def sandbox_api(server: SandboxServer) -> Api:
    """A client connected to ``server``'s first company through consent."""
    return Api.connect(server)


@pytest.fixture
def sandbox_realm(sandbox_server: SandboxServer) -> str:
    """A fresh empty company (minimal chart of accounts) for this test."""
    resp = requests.post(f"{sandbox_server.url}/_sandbox/seed", json={"kind": "empty"}, timeout=30)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["realm_id"])


@pytest.fixture
def token(sandbox_server: SandboxServer, sandbox_realm: str) -> str:
    """An access token for ``sandbox_realm`` obtained through the OAuth flow."""
    return get_token(sandbox_server, sandbox_realm)


@pytest.fixture
def api(sandbox_server: SandboxServer, sandbox_realm: str, token: str) -> Api:
    """A client for this test's company."""
    return Api(sandbox_server, sandbox_realm, token)


@pytest.fixture
def book(api: Api, sandbox_server: SandboxServer) -> dict[str, str]:
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
    realm = sandbox_server.sandbox.realm(api.realm_id)
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
