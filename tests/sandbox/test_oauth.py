"""The sandbox's Intuit OAuth2 server, over real HTTP, driven by authlib's real client.

A client library must work against the sandbox with only its base URLs changed, so the round
trip uses ``authlib``'s ``OAuth2Session`` with endpoints read from the discovery document.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from costbridge_testing.shared import samples_dir
from sandbox.config import OAuthClient
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox.conftest import REDIRECT
from tests.sandbox.conftest import SCOPE
from tests.sandbox.conftest import authorize
from tests.sandbox.conftest import callback
from tests.sandbox.conftest import client_credentials
from tests.sandbox.conftest import connect
from tests.sandbox.conftest import registered_config
from tests.sandbox.conftest import token_call

SAMPLES = samples_dir()
INVALID_GRANT = {"error": "invalid_grant"}


def _discovery(srv: SandboxServer) -> dict[str, Any]:
    resp = requests.get(srv.url + "/.well-known/openid_sandbox_configuration", timeout=5)
    assert resp.status_code == 200
    return resp.json()


def _exchange(srv: SandboxServer, code: str) -> requests.Response:
    return token_call(
        srv, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )


def _api_get(srv: SandboxServer, realm: str, access_token: str | None) -> requests.Response:
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if access_token is not None:
        headers["Authorization"] = f"Bearer {access_token}"
    return requests.get(
        f"{srv.url}/v3/company/{realm}/companyinfo/{realm}?minorversion=75",
        headers=headers,
        timeout=5,
    )


def _assert_auth_fault(resp: requests.Response) -> None:
    sample = json.loads((SAMPLES / "fault.auth.json").read_text())
    assert resp.status_code == 401
    body = resp.json()
    assert set(body) == set(sample)
    assert body["Fault"]["type"] == sample["Fault"]["type"]
    err = body["Fault"]["Error"][0]
    want = sample["Fault"]["Error"][0]
    assert set(err) == set(want)
    assert err["code"] == "3200"
    assert err["Message"] == want["Message"]


def test_discovery_documents_point_at_the_sandbox(server: SandboxServer) -> None:
    sample = json.loads((SAMPLES / "oauth.discovery.sandbox.json").read_text())
    for path in ("openid_sandbox_configuration", "openid_configuration"):
        doc = requests.get(f"{server.url}/.well-known/{path}", timeout=5).json()
        assert set(doc) == set(sample)
        for key in (
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
        ):
            assert doc[key].startswith(server.url + "/"), key
        # Same paths as Intuit's, only the base differs.
        for key in ("authorization_endpoint", "token_endpoint", "revocation_endpoint", "jwks_uri"):
            assert urlsplit(doc[key]).path == urlsplit(sample[key]).path


def test_authlib_round_trip_authorize_token_refresh(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = _discovery(server)
    client_id, secret = client_credentials(server)
    seen: list[dict[str, Any]] = []

    def update_token(
        token: dict[str, Any], refresh_token: str | None = None, access_token: str | None = None
    ) -> None:
        seen.append(dict(token))

    with OAuth2Session(
        client_id, secret, scope=SCOPE, redirect_uri=REDIRECT, update_token=update_token
    ) as session:
        url, state = session.create_authorization_url(meta["authorization_endpoint"])
        consent = requests.get(url, allow_redirects=False, timeout=5)
        cb = callback(consent)
        assert cb["state"] == state
        realm = cb["realmId"]
        assert realm.isdigit()
        assert server.sandbox.has_realm(realm)

        token = session.fetch_token(
            meta["token_endpoint"], authorization_response=consent.headers["Location"]
        )
        sample = json.loads((SAMPLES / "oauth.token.response.json").read_text())
        raw = {k: v for k, v in token.items() if k != "expires_at"}  # authlib adds expires_at
        assert set(raw) == set(sample)
        assert raw["token_type"] == "bearer"
        assert raw["expires_in"] == 3600
        assert raw["x_refresh_token_expires_in"] == 8_726_400

        api = session.get(
            f"{server.url}/v3/company/{realm}/companyinfo/{realm}",
            headers={"Accept": "application/json"},
            timeout=5,
        )
        assert api.status_code == 200
        assert "CompanyInfo" in api.json()

        new = session.refresh_token(meta["token_endpoint"])
        assert new["refresh_token"] != token["refresh_token"]
        assert new["access_token"] != token["access_token"]
        assert _api_get(server, realm, new["access_token"]).status_code == 200

        # Revoke through authlib (form body, token_type_hint), as a real client disconnects.
        resp = session.revoke_token(
            meta["revocation_endpoint"], token=new["refresh_token"], token_type_hint="refresh_token"
        )
        assert resp.status_code == 200
        assert resp.content == b""
    _assert_auth_fault(_api_get(server, realm, new["access_token"]))


def test_refresh_rotates_and_old_refresh_token_is_invalid_grant(server: SandboxServer) -> None:
    token, realm = connect(server)
    first = token_call(
        server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert first.status_code == 200
    again = token_call(
        server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert again.status_code == 400
    assert again.json() == INVALID_GRANT
    # The newest one still works, and so does the access token issued before the refresh.
    newest = token_call(
        server, {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]}
    )
    assert newest.status_code == 200
    assert _api_get(server, realm, token["access_token"]).status_code == 200


def test_concurrent_refreshes_of_one_token_let_exactly_one_win(server: SandboxServer) -> None:
    token, _ = connect(server)
    results: list[int] = []
    lock = threading.Lock()

    def refresh() -> None:
        resp = token_call(
            server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
        )
        with lock:
            results.append(resp.status_code)

    threads = [threading.Thread(target=refresh) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 400, 400, 400, 400, 400]


def test_reused_code_is_refused_and_revokes_what_it_issued(server: SandboxServer) -> None:
    cb = callback(authorize(server))
    first = _exchange(server, cb["code"])
    assert first.status_code == 200
    token = first.json()
    second = _exchange(server, cb["code"])
    assert second.status_code == 400
    assert second.json() == INVALID_GRANT
    _assert_auth_fault(_api_get(server, cb["realmId"], token["access_token"]))
    refresh = token_call(
        server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert refresh.json() == INVALID_GRANT


def test_code_bound_to_its_redirect_uri_and_lifetime(server: SandboxServer) -> None:
    cb = callback(authorize(server))
    wrong = token_call(
        server,
        {
            "grant_type": "authorization_code",
            "code": cb["code"],
            "redirect_uri": "http://127.0.0.1:9/other",
        },
    )
    assert wrong.status_code == 400
    assert wrong.json() == INVALID_GRANT
    cb = callback(authorize(server))
    server.sandbox.clock.advance(server.sandbox.config.auth_code_ttl + 1)
    late = _exchange(server, cb["code"])
    assert late.json() == INVALID_GRANT


def test_unknown_client_gets_an_error_page_not_a_redirect(server: SandboxServer) -> None:
    resp = authorize(server, client_id="nobody")
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert resp.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/cb",
        "http://127.0.0.1.evil.example.com/cb",
        "javascript:alert(1)",
        "",
    ],
)
def test_unregistered_redirect_uri_gets_an_error_page(
    server: SandboxServer, redirect_uri: str
) -> None:
    resp = authorize(server, redirect_uri=redirect_uri)
    assert resp.status_code == 400
    assert "Location" not in resp.headers


def test_registered_redirect_uris_must_match_exactly() -> None:
    config = SandboxConfig(
        oauth_clients=(
            OAuthClient(
                "costbridge-dev",
                "costbridge-dev-secret",
                redirect_uris=("http://localhost:5000/oauth/callback",),
            ),
        )
    )
    with SandboxServer(config=config, port=0) as srv:
        ok = authorize(srv, redirect_uri="http://localhost:5000/oauth/callback")
        assert ok.status_code == 302
        assert ok.headers["Location"].startswith("http://localhost:5000/oauth/callback?code=")
        other = authorize(srv, redirect_uri="http://localhost:5000/oauth/callback2")
        assert other.status_code == 400


def test_bad_response_type_or_missing_scope_redirect_with_an_error(server: SandboxServer) -> None:
    assert callback(authorize(server, response_type="token")) == {
        "error": "unsupported_response_type",
        "state": "csrf-1",
    }
    assert callback(authorize(server, scope="openid email")) == {
        "error": "invalid_scope",
        "state": "csrf-1",
    }


def test_realm_hint_picks_the_company(server: SandboxServer) -> None:
    cb = callback(authorize(server, realm_hint="9130350000000042"))
    assert cb["realmId"] == "9130350000000042"
    assert server.sandbox.has_realm("9130350000000042")


def test_bad_client_credentials_on_token_endpoint(server: SandboxServer) -> None:
    cb = callback(authorize(server))
    client_id, _ = client_credentials(server)
    resp = token_call(
        server,
        {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT},
        auth=(client_id, "wrong"),
    )
    assert resp.status_code == 401
    assert resp.json() == {"error": "invalid_client"}
    assert resp.headers["WWW-Authenticate"].startswith("Basic")
    # The code was not consumed by the failed attempt.
    assert _exchange(server, cb["code"]).status_code == 200


def test_client_secret_post_is_accepted(server: SandboxServer) -> None:
    cb = callback(authorize(server))
    client_id, secret = client_credentials(server)
    resp = requests.post(
        server.url + "/oauth2/v1/tokens/bearer",
        data={
            "grant_type": "authorization_code",
            "code": cb["code"],
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "client_secret": secret,
        },
        timeout=5,
    )
    assert resp.status_code == 200
    assert resp.json()["token_type"] == "bearer"


def test_unsupported_grant_type(server: SandboxServer) -> None:
    resp = token_call(server, {"grant_type": "password"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "unsupported_grant_type"}


def test_access_token_expires_after_an_hour_of_sandbox_time(server: SandboxServer) -> None:
    token, realm = connect(server)
    server.sandbox.clock.advance(3599)
    assert _api_get(server, realm, token["access_token"]).status_code == 200
    server.sandbox.clock.advance(2)
    resp = _api_get(server, realm, token["access_token"])
    _assert_auth_fault(resp)
    assert resp.json()["Fault"]["Error"][0]["Detail"].startswith("Token expired")
    # Refreshing recovers, which is what a client does on any 401.
    new = token_call(
        server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    ).json()
    assert _api_get(server, realm, new["access_token"]).status_code == 200


def test_expire_access_tokens_switch(server: SandboxServer) -> None:
    token, realm = connect(server)
    assert server.sandbox.oauth.expire_access_tokens(realm_id=realm) == 1
    _assert_auth_fault(_api_get(server, realm, token["access_token"]))


def test_revoke_refresh_tokens_switch_is_a_disconnect(server: SandboxServer) -> None:
    token, realm = connect(server)
    assert server.sandbox.oauth.revoke_refresh_tokens() == 1
    _assert_auth_fault(_api_get(server, realm, token["access_token"]))
    resp = token_call(
        server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert resp.json() == INVALID_GRANT


def test_refresh_token_dies_after_its_rolling_window(server: SandboxServer) -> None:
    token, _ = connect(server)
    server.sandbox.clock.advance(8_726_400 + 1)
    resp = token_call(
        server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert resp.json() == INVALID_GRANT


def test_revoke_endpoint_with_json_body_and_access_token(server: SandboxServer) -> None:
    token, realm = connect(server)
    resp = requests.post(
        server.url + "/v2/oauth2/tokens/revoke",
        json={"token": token["access_token"]},
        auth=client_credentials(server),
        timeout=5,
    )
    assert resp.status_code == 200
    assert resp.content == b""
    _assert_auth_fault(_api_get(server, realm, token["access_token"]))
    refresh = token_call(
        server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert refresh.json() == INVALID_GRANT
    # Unknown tokens are acknowledged too (RFC 7009 §2.2).
    unknown = requests.post(
        server.url + "/v2/oauth2/tokens/revoke",
        json={"token": "nope"},
        auth=client_credentials(server),
        timeout=5,
    )
    assert unknown.status_code == 200


def _revoke(srv: SandboxServer, token: str) -> requests.Response:
    return requests.post(
        srv.url + "/v2/oauth2/tokens/revoke",
        json={"token": token},
        auth=client_credentials(srv),
        timeout=5,
    )


def test_revoking_a_refresh_token_disconnects_the_app_from_the_whole_company(
    server: SandboxServer,
) -> None:
    # API.md §8.5: "Revoking the refresh token disconnects the app from the company", so an
    # earlier grant of the same app for the same company dies with the one revoked.
    first, realm = connect(server)
    second, again = connect(server)
    assert again == realm
    assert _revoke(server, second["refresh_token"]).status_code == 200
    _assert_auth_fault(_api_get(server, realm, first["access_token"]))
    refresh = token_call(
        server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert refresh.json() == INVALID_GRANT


def test_revoking_an_access_token_leaves_the_other_grants_of_the_company(
    server: SandboxServer,
) -> None:
    first, realm = connect(server)
    second, _ = connect(server)
    assert _revoke(server, second["access_token"]).status_code == 200
    _assert_auth_fault(_api_get(server, realm, second["access_token"]))
    assert _api_get(server, realm, first["access_token"]).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic abc"])
def test_missing_or_unknown_bearer_is_401_fault(server: SandboxServer, header: str | None) -> None:
    _, realm = connect(server)
    headers = {"Accept": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    resp = requests.get(
        f"{server.url}/v3/company/{realm}/companyinfo/{realm}", headers=headers, timeout=5
    )
    _assert_auth_fault(resp)


def test_token_for_another_company_is_401(server: SandboxServer) -> None:
    token, _ = connect(server, realm_hint="9130350000000001")
    _, other = connect(server, realm_hint="9130350000000002")
    _assert_auth_fault(_api_get(server, other, token["access_token"]))


def test_userinfo_and_jwks(server: SandboxServer) -> None:
    meta = _discovery(server)
    token, realm = connect(server)
    info = requests.get(
        meta["userinfo_endpoint"],
        timeout=5,
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert info.status_code == 200
    assert info.json()["sub"]
    assert info.json()["realmid"] == realm
    assert requests.get(meta["userinfo_endpoint"], timeout=5).status_code == 401
    jwks = requests.get(meta["jwks_uri"], timeout=5)
    assert jwks.status_code == 200
    assert [k["alg"] for k in jwks.json()["keys"]] == ["RS256"]


def test_state_counts_without_token_values(server: SandboxServer) -> None:
    token, _ = connect(server)
    token_call(server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    token_call(server, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    state = server.sandbox.oauth.state()
    assert state["token_calls"] == {"authorization_code": 1, "refresh_token": 2}
    assert state["invalid_grant"] == 1
    assert state["access_tokens"]["issued"] == 2
    assert state["refresh_tokens"] == {"issued": 2, "active": 1, "rotated": 1, "revoked": 0}
    text = json.dumps(state)
    assert token["access_token"] not in text
    assert token["refresh_token"] not in text


def test_basic_auth_with_form_encoded_credentials(server: SandboxServer) -> None:
    # RFC 6749 §2.3.1 form-encodes id and secret inside Basic; Intuit's SDKs do not. Both work.
    client_id, secret = client_credentials(server)
    cb = callback(authorize(server))
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    resp = requests.post(
        server.url + "/oauth2/v1/tokens/bearer",
        data={"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    assert resp.status_code == 200


def test_consent_on_an_empty_sandbox_creates_a_company() -> None:
    with SandboxServer(registered_config(), port=0, seed="none") as srv:
        assert srv.sandbox.realms() == []
        cb = callback(authorize(srv))
        assert srv.sandbox.has_realm(cb["realmId"])
        # A second consent connects the same company instead of making another.
        assert callback(authorize(srv))["realmId"] == cb["realmId"]
        token = _exchange(srv, cb["code"]).json()
        assert _api_get(srv, cb["realmId"], token["access_token"]).status_code == 200
