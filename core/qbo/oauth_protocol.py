"""The OAuth 2 authorization-code protocol with Intuit: consent URL, code exchange, revocation.

No web framework here: the connect pages (`core.web.oauth`), the CLI and the testing kit all
call these.
"""

from __future__ import annotations

from typing import Any

import requests

from core.crypto import remember_secret
from core.crypto import scrubbed_logger
from core.qbo.oauth_config import HTTP_TIMEOUT
from core.qbo.oauth_config import OAuthConfig
from core.qbo.oauth_config import discover

log = scrubbed_logger(__name__)


def authorization_url(oauth: OAuthConfig, state: str) -> str:
    """The URL that asks an Intuit user to connect the app (API.md §8.2).

    Args:
        oauth: The app's registration (redirect_uri from configuration).
        state: The anti-CSRF value to be echoed back.
    """
    endpoints = discover(oauth.discovery_url)
    url, _ = oauth.oauth_session().create_authorization_url(
        endpoints.authorization_endpoint, state=state
    )
    return str(url)


def exchange_code(oauth: OAuthConfig, code: str) -> dict[str, Any]:
    """Trade an authorization code for tokens at the token endpoint (API.md §8.3).

    Raises:
        OAuthError: Intuit refused the code (`invalid_grant`: used, expired or foreign).
        requests.RequestException: Intuit could not be reached.
    """
    remember_secret(code)
    endpoints = discover(oauth.discovery_url)
    token = oauth.oauth_session().fetch_token(
        endpoints.token_endpoint,
        code=code,
        grant_type="authorization_code",
        timeout=HTTP_TIMEOUT,
    )
    answer = dict(token)
    remember_secret(str(answer.get("access_token", "")))
    remember_secret(str(answer.get("refresh_token", "")))
    return answer


def revoke(oauth: OAuthConfig, token: str) -> bool:
    """Revoke a refresh (or access) token at Intuit (API.md §8.5: Basic auth, JSON body).

    Returns:
        Whether Intuit confirmed with 200.
    """
    endpoints = discover(oauth.discovery_url)
    try:
        resp = requests.post(
            endpoints.revocation_endpoint,
            json={"token": token},
            auth=(oauth.client_id, oauth.client_secret),
            headers={"Accept": "application/json"},
            timeout=HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        log.warning("revoke failed: %s", type(exc).__name__)
        return False
    if resp.status_code != 200:
        log.warning("revoke answered HTTP %s", resp.status_code)
    return resp.status_code == 200


def realm_of_token(
    api_base: str, realm_id: str, access_token: str, *, minor_version: int = 75
) -> dict[str, Any] | None:
    """Read `realm_id`'s CompanyInfo with a just-issued access token (API.md §8.6).

    A token works for the one company the user chose, so this proves the callback's `realmId`
    is that company before anything is stored.

    Returns:
        The CompanyInfo when the token reads that realm; None when Intuit refuses the token
        for it (401/403: a token is bound to its own company) or the answer has no CompanyInfo.
        (CompanyInfo's own `Id` is not the realm id; samples/companyinfo.response.json.)

    Raises:
        requests.RequestException: Intuit could not be reached or answered 5xx.
    """
    resp = requests.get(
        f"{api_base.rstrip('/')}/v3/company/{realm_id}/companyinfo/{realm_id}",
        params={"minorversion": str(minor_version)},
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        timeout=HTTP_TIMEOUT,
    )
    if resp.status_code in (400, 401, 403, 404):
        log.warning("CompanyInfo for the callback's realm answered HTTP %s", resp.status_code)
        return None
    resp.raise_for_status()
    try:
        body = resp.json()
    except ValueError:
        return None
    info = body.get("CompanyInfo") if isinstance(body, dict) else None
    return info if isinstance(info, dict) else None
