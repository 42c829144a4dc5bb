"""The console and the connect pages answer only this machine, by address and by Host name.

DNS rebinding: a page on a name the attacker re-points at 127.0.0.1 reaches the app over
loopback, so only the `Host` header gives it away (Flask's `TRUSTED_HOSTS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.models.company import Company
from core.models.company import ConnectionStatus
from core.runtime import Runtime
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from costbridge_testing.services import web_app

REBOUND = "http://rebind.attacker.example:5000"


@pytest.fixture
def saved(committed_db) -> Company:
    row = Company(name="Ridgeline Builders")
    committed_db.add(row)
    committed_db.commit()
    return row


@pytest.mark.parametrize("page", ["/admin/", "/admin/company/", "/qbo/company/{id}"])
def test_a_rebound_host_name_is_refused_even_over_loopback(
    web_client: FlaskClient, saved: Company, page: str
) -> None:
    resp = web_client.get(page.format(id=saved.id), base_url=REBOUND)
    assert resp.status_code == 400
    assert b"Ridgeline" not in resp.data
    assert b"csrf_token" not in resp.data


def test_a_rebound_page_cannot_read_a_csrf_token_and_post_with_it(
    web_client: FlaskClient, committed_db, saved: Company
) -> None:
    saved.connection_status = ConnectionStatus.CONNECTED
    committed_db.commit()
    page = web_client.get(f"/qbo/company/{saved.id}", base_url=REBOUND).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    resp = web_client.post(
        f"/qbo/disconnect/{saved.id}",
        data={"csrf_token": token.group(1) if token else ""},
        base_url=REBOUND,
    )
    assert resp.status_code == 400
    committed_db.expire_all()
    assert committed_db.get(Company, saved.id).connection_status == ConnectionStatus.CONNECTED


@pytest.mark.parametrize(
    "base", ["http://localhost", "http://127.0.0.1:5000", "http://localhost:8080"]
)
def test_loopback_names_reach_the_console(
    web_client: FlaskClient, runtime: Runtime, saved: Company, base: str
) -> None:
    admin = add_user(runtime.sessions, "loopback-admin@example.com")
    sign_in(web_client, runtime.sessions, admin, base_url=base)
    assert web_client.get("/admin/company/", base_url=base).status_code == 200
    assert web_client.get(f"/qbo/company/{saved.id}", base_url=base).status_code == 200


def test_the_test_clients_default_host_passes(web_client: FlaskClient, saved: Company) -> None:
    assert web_client.get("/admin/").status_code == 200


@pytest.fixture
def public(runtime: Runtime) -> Iterator[Flask]:
    with web_app(runtime, TRUSTED_HOSTS=["costbridge.example.com"]) as app:
        yield app


def test_trusted_hosts_can_be_overridden_for_a_public_name(
    public: Flask, runtime: Runtime, saved: Company
) -> None:
    admin = add_user(runtime.sessions, "public-admin@example.com")
    web = sign_in(
        public.test_client(), runtime.sessions, admin, base_url="https://costbridge.example.com"
    )
    assert web.get("/admin/", base_url="https://costbridge.example.com").status_code == 200
    assert web.get("/admin/", base_url="http://localhost").status_code == 400


def test_connect_pages_need_a_signed_in_admin(app: Flask, runtime: Runtime, saved: Company) -> None:
    for path in (f"/qbo/company/{saved.id}", f"/qbo/switch/{saved.id}"):
        anonymous = app.test_client().get(path)
        assert anonymous.status_code == 302
        assert "/signin" in anonymous.headers["Location"]
    # Without the form's CSRF token (another site cannot read it) a POST stops at once.
    assert app.test_client().post(f"/qbo/connect/{saved.id}").status_code == 400
    viewer = add_user(runtime.sessions, "viewer@example.com", "viewer")
    client = sign_in(app.test_client(), runtime.sessions, viewer)
    assert client.get(f"/qbo/company/{saved.id}").status_code == 403
    assert client.get(f"/qbo/switch/{saved.id}").status_code == 403
    assert client.post(f"/qbo/connect/{saved.id}").status_code in (400, 403)
