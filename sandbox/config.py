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
        redirect_uris: Registered redirect URIs, matched exactly as Intuit does (API.md
            §8.2); more can be registered at run time (``POST /_sandbox/redirect-uris``).
    """

    client_id: str
    secret: str
    redirect_uris: tuple[str, ...] = ()


#: costbridge's development client (core/config.py); `costbridge sandbox --redirect-uri URI`
#: registers its redirect URIs.
DEV_CLIENT_ID = "costbridge-dev"
DEV_CLIENT_SECRET = "costbridge-dev-secret"  # noqa: S105 - the local sandbox's published secret


def _default_clients() -> tuple[OAuthClient, ...]:
    return (OAuthClient(DEV_CLIENT_ID, DEV_CLIENT_SECRET),)


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
    # Strict by default, as Intuit. Each "lenient" switch brings back one convenience that
    # Intuit does not offer, for a test that needs it:
    # - lenient_json: JSON whatever the Accept header (QBO answers XML unless the client asks
    #   for JSON, and a 429 in XML even then; API.md §1.1, §3.3);
    # - lenient_redirect_uris: any http(s) URI on 127.0.0.1/localhost is a registered one;
    # - lenient_batch_ids: a batch may repeat a bId (QBO matches answers by bId, §6).
    lenient_json: bool = False
    lenient_redirect_uris: bool = False
    lenient_batch_ids: bool = False
