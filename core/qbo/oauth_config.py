"""The app's OAuth registration with Intuit and the endpoints its discovery document names.

Endpoints are read from `QBO_DISCOVERY_URL` (API.md §8.1), so real Intuit and the local sandbox
differ by configuration alone.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session

from core.config import Settings
from core.crypto import remember_secret
from core.errors import TryLater
from core.qbo.errors import NotConnected

SCOPE = "com.intuit.quickbooks.accounting"
HTTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class OAuthConfig:
    """The app's OAuth registration; `from_settings` reads it from configuration."""

    client_id: str
    client_secret: str
    discovery_url: str
    redirect_uri: str
    scope: str = SCOPE

    def __repr__(self) -> str:
        """Never shows the secret."""
        return f"OAuthConfig(client_id={self.client_id!r}, discovery_url={self.discovery_url!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> OAuthConfig:
        """The configured app (`QBO_CLIENT_ID`, `QBO_DISCOVERY_URL`, `QBO_REDIRECT_URI`...)."""
        remember_secret(settings.qbo_client_secret)
        return cls(
            client_id=settings.qbo_client_id,
            client_secret=settings.qbo_client_secret,
            discovery_url=settings.qbo_discovery_url,
            redirect_uri=settings.qbo_redirect_uri,
        )

    def oauth_session(self, **kwargs: Any) -> OAuth2Session:
        """An authlib session for this app (client_secret_basic, as Intuit wants: API.md §8.3)."""
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            **kwargs,
        )


@dataclass(frozen=True)
class Endpoints:
    """OAuth endpoints as published by the discovery document (API.md §8.1)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    userinfo_endpoint: str


_discovery_cache: dict[str, tuple[float, Endpoints]] = {}
_discovery_lock = threading.Lock()
DISCOVERY_TTL = 3600.0


def discover(discovery_url: str, http: requests.Session | None = None) -> Endpoints:
    """Read (and cache for an hour) the OAuth endpoints from the discovery document.

    Raises:
        TryLater: The document could not be fetched.
        NotConnected: It lacks an endpoint we need (misconfigured `QBO_DISCOVERY_URL`).
    """
    now = time.monotonic()
    with _discovery_lock:
        hit = _discovery_cache.get(discovery_url)
        if hit and now - hit[0] < DISCOVERY_TTL:
            return hit[1]
    try:
        resp = (http or requests).get(
            discovery_url, headers={"Accept": "application/json"}, timeout=HTTP_TIMEOUT
        )
        resp.raise_for_status()
        doc = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise TryLater(
            "Could not reach Intuit's sign-in service.",
            fix="Nothing to do; try again in a minute.",
            detail=f"discovery {discovery_url}: {type(exc).__name__}",
        ) from None
    try:
        endpoints = Endpoints(
            issuer=str(doc.get("issuer", "")),
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            revocation_endpoint=str(doc["revocation_endpoint"]),
            userinfo_endpoint=str(doc.get("userinfo_endpoint", "")),
        )
    except (KeyError, AttributeError, TypeError):
        raise NotConnected(
            "Intuit's sign-in configuration could not be read.",
            fix="Check QBO_DISCOVERY_URL; it must point at Intuit's openid configuration.",
        ) from None
    with _discovery_lock:
        _discovery_cache[discovery_url] = (now, endpoints)
    return endpoints
