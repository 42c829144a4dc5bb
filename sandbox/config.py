"""Settings of one sandbox instance: OAuth clients, limits, company time zone, webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field


@dataclass(frozen=True)
class OAuthClient:
    """An app registered with the sandbox's OAuth server.

    Args:
        client_id: The app's client id (Basic-auth user on the token endpoint).
        secret: The app's client secret.
        redirect_uris: Registered redirect URIs; None accepts any http(s) URI on
            127.0.0.1/localhost, which is what local tests and the demo need.
    """

    client_id: str
    secret: str
    redirect_uris: tuple[str, ...] | None = None


def _default_clients() -> tuple[OAuthClient, ...]:
    # The client costbridge uses by default (core/config.py), so the demo connects untouched.
    return (OAuthClient("costbridge-dev", "costbridge-dev-secret"),)


@dataclass
class SandboxConfig:
    """Everything that can differ between two sandbox instances.

    Defaults are QBO's documented numbers (API.md §9, §5, §7) so a client tuned against the
    sandbox behaves the same against Intuit.
    """

    oauth_clients: tuple[OAuthClient, ...] = field(default_factory=_default_clients)
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 8_726_400
    auth_code_ttl: int = 300
    # API.md §9: 500 requests/min/realm, 10 concurrent, 40 batch calls/min.
    requests_per_minute: int = 500
    concurrent_requests: int = 10
    batch_per_minute: int = 40
    throttle_enabled: bool = True
    # JSON bodies above this size get a QBO Fault instead of being parsed (protects memory).
    max_request_bytes: int = 10 * 1024 * 1024
    # API.md §7.2: uploads up to 100 MB (fault 6030 beyond).
    max_upload_bytes: int = 100 * 1024 * 1024
    # Longest URL (path + query string, as sent) answered; longer gets a 414 Fault. QBO's own
    # limit is undocumented; 65,536 is also the server's request-line cap.
    max_url_bytes: int = 65_536
    max_batch_items: int = 30
    max_query_results: int = 1000
    cdc_max_days: int = 30
    cdc_max_objects: int = 1000
    temp_download_ttl: int = 900
    # Intuit's US sandbox companies report Pacific time (API.md §1.5).
    company_tz: str = "America/Los_Angeles"
    webhook_url: str | None = None
    webhook_verifier: str = "sandbox-webhook-verifier"
    webhook_format: str = "legacy"
    # QBO answers XML unless `Accept: application/json` is sent, and its 429 body is XML even
    # then (API.md §1.1, §3.3). Off (JSON always) by default; on, the sandbox does the same.
    xml_responses: bool = False
