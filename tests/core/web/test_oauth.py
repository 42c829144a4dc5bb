"""Connect and disconnect through the Flask test client and the sandbox's real OAuth endpoints."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.crypto import TokenVault
from core.jobs import queues
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.models.sync import OutboxEntry
from core.models.sync import OutboxState
from core.runtime import Runtime
from costbridge_testing.console import add_user
from costbridge_testing.console import press_connect
from costbridge_testing.console import sign_in
from costbridge_testing.sandbox import Control
from costbridge_testing.services import web_app


@pytest.fixture
def web(qbo_runtime: Runtime) -> Iterator[Flask]:
    """The real app on the sandbox-pointed runtime, with the OAuth blueprint registered."""
    with web_app(qbo_runtime) as app:
        yield app


@pytest.fixture
def admin_id(qbo_runtime: Runtime, company: Company) -> int:
    """A console admin (the company fixture truncates the tables afterwards)."""
    return add_user(qbo_runtime.sessions, "oauth-admin@example.com")


@pytest.fixture
def browser(web: Flask, qbo_runtime: Runtime, admin_id: int) -> FlaskClient:
    return sign_in(web.test_client(), qbo_runtime.sessions, admin_id)


def company_info(qbo_sandbox: Any, realm_id: str | None, access: str) -> requests.Response:
    """Read the realm's CompanyInfo from the sandbox with a bearer token."""
    return requests.get(
        f"{qbo_sandbox.url}/v3/company/{realm_id}/companyinfo/{realm_id}",
        headers={"Authorization": f"Bearer {access}", "Accept": "application/json"},
        params={"minorversion": "75"},
        timeout=10,
    )


def start(browser: FlaskClient, company_id: int) -> str:
    """Click "Connect to QuickBooks"; returns the URL the browser is sent to."""
    page = browser.get(f"/qbo/company/{company_id}")
    assert b"Connect to QuickBooks" in page.data or b"Reconnect" in page.data
    resp = press_connect(browser, company_id)
    assert resp.status_code == 302
    return resp.headers["Location"]


def consent(authorize_url: str) -> str:
    """The user approves on the sandbox's consent screen; returns the callback path+query."""
    resp = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    back = urlsplit(resp.headers["Location"])
    return f"{back.path}?{back.query}"


def load(rt: Runtime, company_id: int) -> Company:
    with rt.sessions() as session:
        row = session.get(Company, company_id)
        assert row is not None
        session.expunge(row)
        return row


def test_connect_flow_end_to_end(
    browser: FlaskClient,
    qbo_runtime: Runtime,
    company: Company,
    sandbox_control: Control,
    qbo_sandbox: Any,
) -> None:
    url = start(browser, company.id)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(qbo_sandbox.url + "/connect/oauth2")
    assert query["scope"] == ["com.intuit.quickbooks.accounting"]
    assert query["redirect_uri"] == [qbo_runtime.settings.qbo_redirect_uri]
    assert query["response_type"] == ["code"]
    assert len(query["state"][0]) >= 32

    resp = browser.get(consent(url))
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/qbo/company/{company.id}?m=connected")

    row = load(qbo_runtime, company.id)
    assert row.connection_status == ConnectionStatus.CONNECTED
    assert row.realm_id
    assert row.realm_id.isdigit()
    assert row.connected_at is not None
    vault = TokenVault(qbo_runtime.settings.token_keys)
    access = vault.decrypt(row.access_token_enc or "")
    assert access not in (row.access_token_enc or "")
    # The stored token works against the API.
    api = company_info(qbo_sandbox, row.realm_id, access)
    assert api.status_code == 200
    # The callback read CompanyInfo with the new tokens and named the QBO company.
    assert row.qbo_company_name == api.json()["CompanyInfo"]["CompanyName"]
    assert b"Connected to QuickBooks." in browser.get(resp.headers["Location"]).data


def test_callback_with_a_state_from_another_session_is_refused(
    web: Flask, qbo_runtime: Runtime, company: Company, sandbox_control: Control, admin_id: int
) -> None:
    victim, attacker = (
        sign_in(web.test_client(), qbo_runtime.sessions, admin_id),
        sign_in(web.test_client(), qbo_runtime.sessions, admin_id),
    )
    exchanges = sandbox_control.oauth()["token_calls"].get("authorization_code", 0)
    url = start(attacker, company.id)
    start(victim, company.id)
    # The attacker's code and state arrive in the victim's browser.
    resp = victim.get(consent(url))
    assert resp.status_code == 400
    assert load(qbo_runtime, company.id).connection_status == ConnectionStatus.DISCONNECTED
    assert sandbox_control.oauth()["token_calls"].get("authorization_code", 0) == exchanges


def test_a_tampered_state_is_refused_and_cannot_be_replayed(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company
) -> None:
    url = start(browser, company.id)
    back = consent(url)
    forged = re.sub(r"state=[^&]+", "state=forged", back)
    assert browser.get(forged).status_code == 400
    # The pending state was used up by the failed attempt: the genuine answer is refused too.
    assert browser.get(back).status_code == 400
    assert load(qbo_runtime, company.id).access_token_enc is None


def test_a_refused_consent_changes_nothing(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company
) -> None:
    url = start(browser, company.id)
    state = parse_qs(urlsplit(url).query)["state"][0]
    resp = browser.get(f"/qbo/callback?error=access_denied&state={state}")
    assert resp.status_code == 302
    assert load(qbo_runtime, company.id).connection_status == ConnectionStatus.DISCONNECTED


def test_disconnect_revokes_at_intuit_and_forgets_the_tokens(
    browser: FlaskClient,
    qbo_runtime: Runtime,
    company: Company,
    sandbox_control: Control,
    qbo_sandbox: Any,
) -> None:
    browser.get(consent(start(browser, company.id)))
    row = load(qbo_runtime, company.id)
    vault = TokenVault(qbo_runtime.settings.token_keys)
    refresh = vault.decrypt(row.refresh_token_enc or "")
    page = browser.get(f"/qbo/company/{company.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the disconnect form carries a CSRF token"
    revokes = sandbox_control.oauth()["revoke_calls"]

    resp = browser.post(f"/qbo/disconnect/{company.id}", data={"csrf_token": token.group(1)})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("m=disconnected")
    assert sandbox_control.oauth()["revoke_calls"] == revokes + 1
    after = load(qbo_runtime, company.id)
    assert after.connection_status == ConnectionStatus.DISCONNECTED
    assert after.access_token_enc is None
    assert after.refresh_token_enc is None
    # Intuit no longer honours the old refresh token.
    endpoint = f"{qbo_sandbox.url}/oauth2/v1/tokens/bearer"
    again = requests.post(
        endpoint,
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(qbo_runtime.settings.qbo_client_id, qbo_runtime.settings.qbo_client_secret),
        timeout=10,
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_disconnect_without_csrf_token_is_refused(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company
) -> None:
    browser.get(consent(start(browser, company.id)))
    assert browser.post(f"/qbo/disconnect/{company.id}").status_code == 400
    assert load(qbo_runtime, company.id).connection_status == ConnectionStatus.CONNECTED


def test_a_realm_already_connected_to_another_company_is_refused(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company, committed_db: Any
) -> None:
    browser.get(consent(start(browser, company.id)))
    realm = load(qbo_runtime, company.id).realm_id
    other = Company(name="Second Builder")
    committed_db.add(other)
    committed_db.commit()
    resp = browser.get(consent(start(browser, other.id)))
    assert resp.status_code == 409
    with qbo_runtime.sessions() as session:
        owners = session.scalars(select(Company.id).where(Company.realm_id == realm)).all()
    assert owners == [company.id]


def test_a_realm_connected_elsewhere_is_refused_before_the_code_is_exchanged(
    browser: FlaskClient,
    qbo_runtime: Runtime,
    company: Company,
    committed_db: Any,
    sandbox_control: Control,
    qbo_sandbox: Any,
) -> None:
    browser.get(consent(start(browser, company.id)))
    first = load(qbo_runtime, company.id)
    other = Company(name="Second Builder")
    committed_db.add(other)
    committed_db.commit()
    before = sandbox_control.oauth()
    resp = browser.get(consent(start(browser, other.id)))
    assert resp.status_code == 409
    after = sandbox_control.oauth()
    # No code exchanged, nothing revoked: a revoke would disconnect the app from the realm
    # (API.md §8.5) and cut the first company off.
    assert after["token_calls"].get("authorization_code", 0) == before["token_calls"].get(
        "authorization_code", 0
    )
    assert after["revoke_calls"] == before["revoke_calls"]
    access = TokenVault(qbo_runtime.settings.token_keys).decrypt(first.access_token_enc or "")
    api = company_info(qbo_sandbox, first.realm_id, access)
    assert api.status_code == 200
    assert load(qbo_runtime, company.id).connection_status == ConnectionStatus.CONNECTED
    assert load(qbo_runtime, other.id).realm_id is None


def blocked_push(committed_db: Any, company: Company) -> OutboxEntry:
    entry = OutboxEntry(
        company_id=company.id,
        entity="Bill",
        local_kind="bill",
        local_id=1,
        operation="create",
        idempotency_key=str(uuid.uuid4()),
        state=OutboxState.BLOCKED,
    )
    committed_db.add(entry)
    committed_db.commit()
    return entry


def test_connecting_queues_again_the_pushes_that_waited_for_the_connection(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company, committed_db: Any
) -> None:
    entry = blocked_push(committed_db, company)
    resp = browser.get(consent(start(browser, company.id)))
    assert resp.headers["Location"].endswith("m=connected")
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state == OutboxState.PENDING
    assert queues.queue(queues.PUSH, qbo_runtime.redis).count == 1


@pytest.fixture
def redis_down(qbo_runtime: Runtime) -> Iterator[Flask]:
    """The app on a runtime whose Redis refuses connections (nothing listens on port 1)."""
    rt = Runtime(
        settings=qbo_runtime.settings.with_overrides({"redis_url": "redis://127.0.0.1:1/0"}),
        engine=qbo_runtime.engine,
        pm=qbo_runtime.pm,
    )
    with web_app(rt) as app:
        yield app
    rt.redis.close()


def test_a_redis_outage_after_the_tokens_are_stored_does_not_fail_the_connect(
    redis_down: Flask, qbo_runtime: Runtime, company: Company, committed_db: Any, admin_id: int
) -> None:
    entry = blocked_push(committed_db, company)
    browser = sign_in(redis_down.test_client(), qbo_runtime.sessions, admin_id)
    resp = browser.get(consent(start(browser, company.id)))
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("m=connected")
    assert load(qbo_runtime, company.id).connection_status == ConnectionStatus.CONNECTED
    # Not lost: the sweeper finds the row once Redis is back.
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, entry.id).state in (
        OutboxState.BLOCKED,
        OutboxState.PENDING,
    )
