"""Helpers for tests and benchmarks that talk to the QBO sandbox over real HTTP.

Plain functions, not fixtures (those are in `costbridge_testing.plugin`): start a sandbox with
costbridge's development OAuth client registered, point settings at it, connect a company
through the real OAuth endpoints, and drive the `/_sandbox/` control API.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import requests
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from core.config import Settings
from core.crypto import TokenVault
from core.models.company import Company
from core.qbo.grants import store_grant
from core.qbo.oauth_config import OAuthConfig
from core.qbo.oauth_protocol import authorization_url
from core.qbo.oauth_protocol import exchange_code

CLIENT_ID = "costbridge-dev"
CLIENT_SECRET = "costbridge-dev-secret"  # noqa: S105 - the local sandbox's published dev secret
REDIRECT_URI = "http://127.0.0.1:5000/qbo/callback"


def start_sandbox(seed: str = "empty", **config: Any) -> Any:
    """Start a `SandboxServer` on a free loopback port with our dev client registered.

    The client's redirect URI is `REDIRECT_URI`; an app served elsewhere registers its own
    (`Control.register_redirect_uri`): the sandbox matches them exactly, as Intuit does.

    Args:
        seed: `"empty"`, `"demo"` or `"none"`.
        config: `SandboxConfig` fields to change.

    Returns:
        The started server (call `.stop()`).
    """
    from sandbox import SandboxServer
    from sandbox.config import OAuthClient
    from sandbox.config import SandboxConfig

    config.setdefault("oauth_clients", (OAuthClient(CLIENT_ID, CLIENT_SECRET, (REDIRECT_URI,)),))
    server = SandboxServer(SandboxConfig(**config), host="127.0.0.1", port=0, seed=seed)
    server.start()
    return server


def sandbox_settings(settings: Settings, base_url: str, **overrides: Any) -> Settings:
    """`settings` pointed at a sandbox at `base_url` with our dev client."""
    values: dict[str, Any] = {
        "qbo_api_base": base_url,
        "qbo_discovery_url": f"{base_url}/.well-known/openid_sandbox_configuration",
        "qbo_client_id": CLIENT_ID,
        "qbo_client_secret": CLIENT_SECRET,
        "qbo_redirect_uri": REDIRECT_URI,
    }
    values.update(overrides)
    return settings.with_overrides(values)


def authorize(
    settings: Settings, state: str = "test-state", realm_hint: str | None = None
) -> dict[str, str]:
    """Walk the sandbox's consent screen: GET the authorization URL, read the redirect back.

    Returns:
        The callback's query parameters (`code`, `state`, `realmId`).
    """
    oauth = OAuthConfig.from_settings(settings)
    url = authorization_url(oauth, state)
    if realm_hint:
        url += f"&realm_hint={realm_hint}"
    resp = requests.get(url, allow_redirects=False, timeout=10)
    if resp.status_code != 302:
        raise AssertionError(f"authorize answered {resp.status_code}, not a redirect")
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def connect_company(
    settings: Settings,
    sessions: sessionmaker[Session],
    company_id: int,
    realm_hint: str | None = None,
) -> str:
    """Connect a company through the sandbox's real authorize and token endpoints.

    Returns:
        The realm id now stored on the company.
    """
    params = authorize(settings, realm_hint=realm_hint)
    token = exchange_code(OAuthConfig.from_settings(settings), params["code"])
    vault = TokenVault(settings.token_keys)
    with sessions() as session, session.begin():
        company = session.get(Company, company_id)
        assert company is not None
        store_grant(company, token, vault, realm_id=params["realmId"])
    return params["realmId"]


class Control:
    """The sandbox's `/_sandbox/` control API over HTTP."""

    def __init__(self, base_url: str) -> None:
        """Talk to the sandbox at `base_url`."""
        self.base = base_url.rstrip("/") + "/_sandbox"
        self.http = requests.Session()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self.http.post(f"{self.base}/{path}", json=body or {}, timeout=10)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def _get(self, path: str, **params: Any) -> Any:
        resp = self.http.get(f"{self.base}/{path}", params=params, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def faults(self, **rule: Any) -> Any:
        """Install a fault rule (`Chaos.configure` arguments)."""
        return self._post("faults", rule)

    def honour_request_ids(self, honour: bool) -> Any:
        """Turn the sandbox's requestid replay on or off (off: every write runs again)."""
        return self._post("requestid", {"honour": honour})

    def register_redirect_uri(self, uri: str, client_id: str = CLIENT_ID) -> Any:
        """Register one more redirect URI for a client (the sandbox matches them exactly)."""
        return self._post("redirect-uris", {"redirect_uri": uri, "client_id": client_id})

    def queries(self, realm_id: str | None = None) -> list[dict[str, Any]]:
        """Every query statement the sandbox received (`query`, `realm`, `refused`)."""
        params = {"realm": realm_id} if realm_id else {}
        return list(self._get("queries", **params))

    def cap_query_pages(self, rows: int) -> Any:
        """Make every query page hold at most `rows` rows, whatever MAXRESULTS asks for."""
        return self._post("query", {"max_results": rows})

    def clear_faults(self) -> Any:
        """Remove every fault rule."""
        resp = self.http.delete(f"{self.base}/faults", timeout=10)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def throttle(self, **limits: Any) -> Any:
        """Configure the throttle (`per_minute`, `concurrent`, `batch_per_minute`, `enabled`)."""
        return self._post("throttle", limits)

    def throttle_stats(self) -> Any:
        """The throttle's limits and per-realm usage."""
        return self._get("throttle")

    def expire_tokens(self, realm_id: str | None = None) -> Any:
        """Expire live access tokens now."""
        return self._post("tokens/expire", {"realm_id": realm_id} if realm_id else {})

    def revoke_tokens(self, realm_id: str | None = None) -> Any:
        """Revoke refresh tokens (the user disconnected the app in QBO)."""
        return self._post("tokens/revoke", {"realm_id": realm_id} if realm_id else {})

    def oauth(self) -> Any:
        """OAuth counters (`token_calls`, `invalid_grant`, `revoke_calls`, ...)."""
        return self._get("oauth")

    def counters(self) -> Any:
        """Request counters."""
        return self._get("counters")

    def seed(
        self,
        kind: str = "empty",
        realm_id: str | None = None,
        *,
        seed: int | None = None,
        size: float | None = None,
        as_of: date | datetime | None = None,
    ) -> str:
        """Seed a company; returns its realm id.

        Args:
            kind: `"empty"` or `"demo"`.
            realm_id: The company's realm id; the sandbox picks one when None.
            seed: The demo's random seed (the sandbox's default when None).
            size: The demo's size (1.0 is about 10,000 lines).
            as_of: Seed the demo as it stood on this day (a date in the company's zone, or a
                datetime; naive is UTC), whatever the sandbox clock says. Its history then
                ends on the last Sunday before that day.
        """
        body: dict[str, Any] = {"kind": kind}
        if realm_id:
            body["realm_id"] = realm_id
        if seed is not None:
            body["seed"] = seed
        if size is not None:
            body["size"] = size
        if as_of is not None:
            body["as_of"] = as_of.isoformat()
        return str(self._post("seed", body)["realm_id"])
