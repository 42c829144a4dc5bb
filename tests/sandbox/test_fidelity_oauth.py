"""Issue 10, bullet 6: redirect URIs match exactly, form-only token endpoint, signed id_token."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests

with warnings.catch_warnings():
    # authlib (a declared dependency) deprecates authlib.jose in favour of joserfc, which is
    # not one; the API used here stays until authlib 2.
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey
    from authlib.jose import JsonWebToken
    from authlib.jose.errors import BadSignatureError

from sandbox import SandboxServer
from sandbox.config import OAuthClient
from sandbox.config import SandboxConfig
from tests.sandbox.conftest import AUTHORIZE_PATH
from tests.sandbox.conftest import TOKEN_PATH
from tests.sandbox.conftest import callback

REGISTERED = "https://app.example.com/qbo/callback"


@pytest.fixture(scope="module")
def strict_server() -> Iterator[SandboxServer]:
    """A sandbox whose one app registered exactly one redirect URI."""
    config = SandboxConfig(oauth_clients=(OAuthClient("strict-app", "s3cret", (REGISTERED,)),))
    with SandboxServer(config, port=0, seed="empty") as srv:
        yield srv


def _consent(srv: SandboxServer, redirect_uri: str, scope: str) -> requests.Response:
    query = {
        "client_id": "strict-app",
        "response_type": "code",
        "scope": scope,
        "redirect_uri": redirect_uri,
        "state": "s",
    }
    return requests.get(
        f"{srv.url}{AUTHORIZE_PATH}?{urlencode(query)}", allow_redirects=False, timeout=5
    )


@pytest.mark.parametrize(
    "uri",
    [
        REGISTERED + "/",
        REGISTERED.upper(),
        REGISTERED + "?x=1",
        REGISTERED.replace("https", "http"),
        "http://127.0.0.1:9/callback",
    ],
)
def test_redirect_uri_must_match_a_registered_one_exactly(
    strict_server: SandboxServer, uri: str
) -> None:
    resp = _consent(strict_server, uri, "com.intuit.quickbooks.accounting")
    assert resp.status_code == 400
    assert "Location" not in resp.headers


def test_token_endpoint_refuses_json_bodies(strict_server: SandboxServer) -> None:
    code = callback(_consent(strict_server, REGISTERED, "com.intuit.quickbooks.accounting"))["code"]
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REGISTERED}
    as_json = requests.post(
        f"{strict_server.url}{TOKEN_PATH}", json=body, auth=("strict-app", "s3cret"), timeout=5
    )
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    as_form = requests.post(
        f"{strict_server.url}{TOKEN_PATH}", data=body, auth=("strict-app", "s3cret"), timeout=5
    )
    assert as_form.status_code == 200, as_form.text
    assert "id_token" not in as_form.json()


def test_openid_scope_returns_an_id_token_signed_with_the_jwks_key(
    strict_server: SandboxServer,
) -> None:
    cb = callback(_consent(strict_server, REGISTERED, "com.intuit.quickbooks.accounting openid"))
    tokens = requests.post(
        f"{strict_server.url}{TOKEN_PATH}",
        data={"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REGISTERED},
        auth=("strict-app", "s3cret"),
        timeout=5,
    ).json()
    discovery = requests.get(
        f"{strict_server.url}/.well-known/openid_sandbox_configuration", timeout=5
    ).json()
    keys = JsonWebKey.import_key_set(requests.get(discovery["jwks_uri"], timeout=5).json())
    # Only RS256 is accepted, so a token that is unsigned ("none") or HMAC-signed fails here.
    claims = JsonWebToken(["RS256"]).decode(tokens["id_token"], keys)
    claims.validate()
    head, payload, signature = tokens["id_token"].split(".")
    forged = f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    with pytest.raises(BadSignatureError):
        JsonWebToken(["RS256"]).decode(forged, keys)
    assert claims["iss"] == discovery["issuer"]
    assert claims["aud"] == ["strict-app"]
    assert claims["realmid"] == cb["realmId"]
