"""The OAuth callback and disconnect, hardened: one-time state, proven realm, revoke pending.

All against the sandbox's real OAuth endpoints over HTTP. An Intuit revocation outage is a small
HTTP server in front of the sandbox (its discovery document points `revocation_endpoint` at
itself) that answers 503 until told otherwise, then forwards to the sandbox.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from core.models import Company
from core.models import ConnectionStatus
from core.models import OAuthState
from core.models import PendingRevocation
from core.qbo import client_for
from core.qbo.oauth_states import STATE_TTL
from core.qbo.revocation import REVOKE_PENDING
from core.qbo.revocation import retry_revocations
from core.runtime import Runtime
from costbridge_testing.console import add_user
from costbridge_testing.console import press_connect
from costbridge_testing.console import sign_in
from costbridge_testing.sandbox import Control
from costbridge_testing.services import web_app


@pytest.fixture
def web(qbo_runtime: Runtime) -> Iterator[Flask]:
    with web_app(qbo_runtime) as app:
        yield app


@pytest.fixture
def admin_id(qbo_runtime: Runtime, company: Company) -> int:
    """A console admin (the company fixture truncates the tables afterwards)."""
    return add_user(qbo_runtime.sessions, "hardening-admin@example.com")


@pytest.fixture
def browser(web: Flask, qbo_runtime: Runtime, admin_id: int) -> FlaskClient:
    return sign_in(web.test_client(), qbo_runtime.sessions, admin_id)


def start(browser: FlaskClient, company_id: int) -> str:
    resp = press_connect(browser, company_id)
    assert resp.status_code == 302
    return resp.headers["Location"]


def consent(authorize_url: str, realm_hint: str | None = None) -> str:
    url = authorize_url + (f"&realm_hint={realm_hint}" if realm_hint else "")
    resp = requests.get(url, allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    back = urlsplit(resp.headers["Location"])
    return f"{back.path}?{back.query}"


def with_realm(back: str, realm: str) -> str:
    path, query = back.split("?", 1)
    params = {k: v[0] for k, v in parse_qs(query).items()}
    params["realmId"] = realm
    return f"{path}?{urlencode(params)}"


def load(rt: Runtime, company_id: int) -> Company:
    with rt.sessions() as session:
        row = session.get(Company, company_id)
        assert row is not None
        session.expunge(row)
        return row


def exchanges(control: Control) -> int:
    return int(control.oauth()["token_calls"].get("authorization_code", 0))


def seeded(control: Control) -> str:
    return control.seed("empty", realm_id=str(random.randrange(10**15, 10**16)))  # noqa: S311


def test_a_replayed_callback_with_the_old_cookie_is_refused_and_the_company_still_works(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company, sandbox_control: Control
) -> None:
    realm = seeded(sandbox_control)
    back = consent(start(browser, company.id), realm_hint=realm)
    old_cookie = browser.get_cookie("session")
    assert old_cookie is not None
    before = exchanges(sandbox_control)
    assert browser.get(back).status_code == 302

    browser.set_cookie("session", old_cookie.value, domain=old_cookie.domain)
    replay = browser.get(back)
    assert replay.status_code == 400
    assert exchanges(sandbox_control) == before + 1  # the code went to Intuit once
    # Using a code twice would poison the grant; it was not, so the company works.
    assert client_for(qbo_runtime, realm).company_info()["CompanyName"]
    assert load(qbo_runtime, company.id).connection_status == ConnectionStatus.CONNECTED


def test_two_racing_callbacks_exchange_the_code_once(
    web: Flask, qbo_runtime: Runtime, company: Company, sandbox_control: Control, admin_id: int
) -> None:
    first = sign_in(web.test_client(), qbo_runtime.sessions, admin_id)
    back = consent(start(first, company.id), realm_hint=seeded(sandbox_control))
    cookie = first.get_cookie("session")
    assert cookie is not None
    clients = [web.test_client() for _ in range(4)]
    for c in clients:
        c.set_cookie("session", cookie.value, domain=cookie.domain)
    before = exchanges(sandbox_control)
    codes: list[int] = []
    threads = [
        threading.Thread(target=lambda c=c: codes.append(c.get(back).status_code)) for c in clients
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [302, 400, 400, 400]
    assert exchanges(sandbox_control) == before + 1


def test_a_tampered_realm_id_is_refused_before_anything_is_stored(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company, sandbox_control: Control
) -> None:
    chosen, other = seeded(sandbox_control), seeded(sandbox_control)
    back = consent(start(browser, company.id), realm_hint=chosen)
    resp = browser.get(with_realm(back, other))
    assert resp.status_code == 400
    row = load(qbo_runtime, company.id)
    assert row.realm_id is None
    assert row.access_token_enc is None
    assert row.connection_status == ConnectionStatus.DISCONNECTED


@pytest.mark.parametrize("realm", ["١٢٣٤٥", "123 ", "+123", "12\u00b2", "1" * 40, ""])
def test_a_realm_id_that_is_not_ascii_digits_is_refused_before_the_exchange(
    browser: FlaskClient, company: Company, sandbox_control: Control, realm: str
) -> None:
    back = consent(start(browser, company.id), realm_hint=seeded(sandbox_control))
    before = exchanges(sandbox_control)
    assert browser.get(with_realm(back, realm)).status_code == 400
    assert exchanges(sandbox_control) == before


def test_a_state_is_good_for_fifteen_minutes_only(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company, sandbox_control: Control
) -> None:
    back = consent(start(browser, company.id), realm_hint=seeded(sandbox_control))
    later = dt.datetime.now(dt.UTC) + STATE_TTL + dt.timedelta(seconds=5)
    with freeze_time(later, tick=True):
        assert browser.get(back).status_code == 400
    with qbo_runtime.sessions() as session:
        assert session.scalars(select(OAuthState)).all()  # expired, not used; swept next time


def test_the_callback_answers_on_the_public_host_and_the_console_does_not(
    qbo_runtime: Runtime, company: Company, sandbox_control: Control, admin_id: int
) -> None:
    rt = Runtime(
        settings=qbo_runtime.settings.with_overrides({"public_hosts": ("cb.example.com",)}),
        engine=qbo_runtime.engine,
        pm=qbo_runtime.pm,
    )
    with web_app(rt) as app:
        console = sign_in(app.test_client(), rt.sessions, admin_id)
        back = consent(start(console, company.id), realm_hint=seeded(sandbox_control))
        # Intuit sends the browser to the public name, through the proxy: no console cookie.
        public = app.test_client()
        proxied = {"X-Forwarded-For": "203.0.113.9"}
        resp = public.get(back, base_url="https://cb.example.com", headers=proxied)
        assert resp.status_code == 200
        assert b"Connected to QuickBooks." in resp.data
        assert load(rt, company.id).connection_status == ConnectionStatus.CONNECTED
        for path in ("/admin/", f"/qbo/company/{company.id}", f"/qbo/connect/{company.id}"):
            assert public.get(path, base_url="https://cb.example.com").status_code == 404
        # The proxy connects over loopback, but a forwarded client is not this machine.
        assert console.get("/metrics").status_code == 200
        assert console.get("/metrics", headers=proxied).status_code == 403


class RevokeOutage:
    """Discovery + revocation in front of the sandbox; 503 while `down`."""

    def __init__(self, sandbox_url: str) -> None:
        self.sandbox = sandbox_url
        self.down = True
        self.calls = 0
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def app(self, environ: Any, start_response: Any) -> Any:
        req = Request(environ)
        if req.path.startswith("/.well-known/"):
            doc = requests.get(self.sandbox + req.path, timeout=10).json()
            doc["revocation_endpoint"] = f"{self.url}/revoke"
            return Response(__import__("json").dumps(doc), mimetype="application/json")(
                environ, start_response
            )
        self.calls += 1
        if self.down:
            return Response("down", status=503)(environ, start_response)
        upstream = requests.get(
            f"{self.sandbox}/.well-known/openid_sandbox_configuration", timeout=10
        ).json()["revocation_endpoint"]
        answer = requests.post(
            upstream,
            data=req.get_data(),
            headers={
                "Authorization": req.headers.get("Authorization", ""),
                "Content-Type": req.headers.get("Content-Type", "application/json"),
            },
            timeout=10,
        )
        return Response(answer.content, status=answer.status_code)(environ, start_response)


@pytest.fixture
def outage(qbo_sandbox: Any) -> Iterator[RevokeOutage]:
    fake = RevokeOutage(qbo_sandbox.url)
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_an_unconfirmed_disconnect_stays_revoke_pending_and_is_retried(
    qbo_runtime: Runtime,
    company: Company,
    sandbox_control: Control,
    qbo_sandbox: Any,
    outage: RevokeOutage,
    admin_id: int,
) -> None:
    rt = Runtime(
        settings=qbo_runtime.settings.with_overrides(
            {"qbo_discovery_url": f"{outage.url}/.well-known/openid_sandbox_configuration"}
        ),
        engine=qbo_runtime.engine,
        pm=qbo_runtime.pm,
    )
    with web_app(rt) as app:
        browser = sign_in(app.test_client(), rt.sessions, admin_id)
        realm = seeded(sandbox_control)
        assert browser.get(consent(start(browser, company.id), realm_hint=realm)).status_code == 302
        page = browser.get(f"/qbo/company/{company.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        resp = browser.post(f"/qbo/disconnect/{company.id}", data={"csrf_token": token.group(1)})
        assert resp.headers["Location"].endswith("m=disconnected-unconfirmed")
        row = load(rt, company.id)
        assert row.connection_status == ConnectionStatus.DISCONNECTED
        assert row.connection_problem == REVOKE_PENDING
        assert "Revoke pending" in browser.get(f"/qbo/company/{company.id}").get_data(as_text=True)
        # The grant is still alive at Intuit, and costbridge still holds it.
        with rt.sessions() as session:
            (pending,) = session.scalars(select(PendingRevocation)).all()
        assert pending.realm_id == realm

        # Not due yet: nothing is tried. Due, still down: tried and put off again.
        assert retry_revocations(rt) == {"tried": 0, "confirmed": 0}
        with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2), tick=True):
            assert retry_revocations(rt) == {"tried": 1, "confirmed": 0}
        outage.down = False
        with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10), tick=True):
            assert retry_revocations(rt) == {"tried": 1, "confirmed": 1}
        with rt.sessions() as session:
            assert session.scalars(select(PendingRevocation)).all() == []
        assert load(rt, company.id).connection_problem is None
        assert sandbox_control.oauth()["revoke_calls"] >= 1


def test_reconnecting_the_realm_cancels_its_pending_revoke(
    qbo_runtime: Runtime,
    company: Company,
    sandbox_control: Control,
    outage: RevokeOutage,
    admin_id: int,
) -> None:
    rt = Runtime(
        settings=qbo_runtime.settings.with_overrides(
            {"qbo_discovery_url": f"{outage.url}/.well-known/openid_sandbox_configuration"}
        ),
        engine=qbo_runtime.engine,
        pm=qbo_runtime.pm,
    )
    with web_app(rt) as app:
        browser = sign_in(app.test_client(), rt.sessions, admin_id)
        realm = seeded(sandbox_control)
        browser.get(consent(start(browser, company.id), realm_hint=realm))
        page = browser.get(f"/qbo/company/{company.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        browser.post(f"/qbo/disconnect/{company.id}", data={"csrf_token": token.group(1)})
        assert browser.get(consent(start(browser, company.id), realm_hint=realm)).status_code == 302
    with rt.sessions() as session:
        assert session.scalars(select(PendingRevocation)).all() == []
    outage.down = False
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), tick=True):
        assert retry_revocations(rt) == {"tried": 0, "confirmed": 0}
    assert client_for(rt, realm).company_info()["CompanyName"]
