"""Sign-in, roles and CSRF over every console URL (RELIABILITY.md §2; recipe 9's matrix)."""

from __future__ import annotations

import logging
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.models import CostCode
from core.models import Role
from core.models import User
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from tests.factories import make_cost_code
from tests.factories import make_project

PASSWORD = "correct horse battery"


@pytest.fixture
def client_as(app, runtime, committed_db):
    """A test client signed in with the given role (users are truncated afterwards)."""

    def make(role: Role):
        uid = add_user(runtime.sessions, f"{role.value}@example.com", role)
        return sign_in(app.test_client(), runtime.sessions, uid)

    return make


def _csrf(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_sign_in_with_the_right_password_opens_the_console(app, runtime, committed_db):
    add_user(runtime.sessions, "Ann@Example.com", Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    token = _csrf(client, "/signin")
    resp = client.post(
        "/signin?next=/admin/project/",
        data={"csrf_token": token, "email": "ann@example.com", "password": PASSWORD},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/admin/project/"
    assert client.get("/admin/").status_code == 200


def test_sign_in_with_a_wrong_password_is_refused_in_words(app, runtime, committed_db):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    token = _csrf(client, "/signin")
    page = client.post(
        "/signin", data={"csrf_token": token, "email": "ann@example.com", "password": "nope"}
    ).get_data(as_text=True)
    assert "do not match an active user" in page
    assert client.get("/admin/").status_code == 302


def test_sign_in_never_redirects_off_site(app, runtime, committed_db):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    token = _csrf(client, "/signin")
    resp = client.post(
        "/signin?next=//evil.example/x",
        data={"csrf_token": token, "email": "ann@example.com", "password": PASSWORD},
    )
    assert resp.headers["Location"] == "/admin/"


def test_sign_out_ends_the_session_everywhere(app, client_as):
    client = client_as(Role.VIEWER)
    stolen = client.get_cookie("session").value
    token = _csrf(client, "/admin/")
    assert client.post("/signout", data={"csrf_token": token}).status_code == 302
    other = app.test_client()
    other.set_cookie("session", stolen)
    assert other.get("/admin/").status_code == 302


def test_sign_in_page_says_how_to_make_the_first_admin(app, committed_db):
    page = app.test_client().get("/signin").get_data(as_text=True)
    assert "costbridge users create" in page


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SUPPORT])
def test_only_an_admin_changes_project_settings(client_as, committed_db, role):
    project = make_project(committed_db, linked=True)
    make_cost_code(committed_db, project.company)
    committed_db.commit()
    client = client_as(role)
    url = f"/admin/project/settings/?id={project.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Only an admin can change these settings." in page
    resp = client.post(url, data={"csrf_token": _csrf(client, url), "vendor_credits": "on"})
    assert resp.status_code == 403
    committed_db.expire_all()
    assert not committed_db.get(type(project), project.id).settings.get("vendor_credits")


def test_a_viewer_cannot_post_anything(client_as, committed_db):
    client = client_as(Role.VIEWER)
    token = _csrf(client, "/admin/")
    assert client.post("/admin/queue/retry-all", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/companies/create", data={"csrf_token": token}).status_code == 403


def test_support_cannot_edit_model_rows(client_as, committed_db):
    client = client_as(Role.SUPPORT)
    assert b"Create" not in client.get("/admin/costcode/").data.split(b"<table")[0][-2000:]
    assert client.get("/admin/costcode/new/").status_code in (302, 403)


def test_every_console_url_needs_sign_in(app, committed_db):
    """Recipe 9's matrix, anonymous column: every GET redirects to sign-in, every POST is 401."""
    anonymous = app.test_client()
    open_rules = {"/signin", "/qbo/callback", "/webhooks/qbo", "/healthz", "/readyz", "/metrics"}
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<[^>]+>", "1", rule.rule)
        if rule.rule in open_rules or rule.endpoint.endswith("static"):
            continue
        if rule.endpoint.startswith("api_v1."):
            # The read API takes bearer tokens, never the sign-in: 401, its document open,
            # and 404 for paths it does not have (tests/core/web/test_api.py).
            expected = {"api_v1.openapi": 200, "api_v1.unknown": 404}.get(rule.endpoint, 401)
            assert anonymous.get(url).status_code == expected, url
            continue
        if "GET" in rule.methods:
            resp = anonymous.get(url)
            assert resp.status_code == 302, url
            assert "/signin" in resp.headers["Location"], url
        if "POST" in rule.methods:
            assert anonymous.post(url).status_code in (400, 401), url


def test_post_without_csrf_token_is_refused_even_for_an_admin(web_client, committed_db):
    assert web_client.post("/admin/queue/retry-all").status_code == 400


def test_users_create_takes_the_password_from_stdin(runtime, committed_db, monkeypatch):
    from core.cli import main

    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("COSTBRIDGE_INSTANCE", str(runtime.settings.instance_path))
    result = CliRunner().invoke(
        main,
        ["users", "create", "Boss@Example.com", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    user = committed_db.scalars(select(User)).one()
    assert user.email == "boss@example.com"
    assert user.role == Role.ADMIN
    assert PASSWORD not in user.password_hash


def test_users_create_refuses_a_short_password(runtime, committed_db, monkeypatch):
    from core.cli import main

    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("COSTBRIDGE_INSTANCE", str(runtime.settings.instance_path))
    result = CliRunner().invoke(
        main, ["users", "create", "a@example.com", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output


def test_web_refuses_to_serve_beyond_this_machine_without_allowed_hosts(monkeypatch, tmp_path):
    from core.cli import main

    monkeypatch.setenv("COSTBRIDGE_INSTANCE", str(tmp_path))
    monkeypatch.delenv("COSTBRIDGE_ALLOWED_HOSTS", raising=False)
    result = CliRunner().invoke(main, ["web", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "COSTBRIDGE_ALLOWED_HOSTS" in result.output


def test_allowed_hosts_reach_the_signed_in_console_and_others_do_not(
    runtime, engine, pm, committed_db
):
    from core.runtime import Runtime
    from costbridge_testing.services import web_app

    served = Runtime(
        settings=runtime.settings.with_overrides({"allowed_hosts": ("costbridge.example.com",)}),
        engine=engine,
        pm=pm,
    )
    with web_app(served) as app:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        uid = add_user(served.sessions, "far@example.com", Role.VIEWER)
        client = sign_in(
            app.test_client(), served.sessions, uid, base_url="https://costbridge.example.com"
        )
        assert client.get("/admin/", base_url="https://costbridge.example.com").status_code == 200
        assert client.get("/admin/", base_url="https://elsewhere.example").status_code == 400


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.endpoint.startswith(("qbo_webhooks", "ops")):
            yield rule, re.sub(r"<[^>]+>", "1", rule.rule)


def test_a_viewer_is_refused_every_post_even_with_a_valid_token(app, client_as):
    """Recipe 9's matrix, viewer column: no form or action changes anything."""
    viewer = client_as(Role.VIEWER)
    token = _csrf(viewer, "/admin/")
    for rule, url in _post_rules(app):
        if rule.endpoint in ("costbridge_auth.logout", "costbridge_auth.login"):
            continue
        if rule.endpoint == "qbo_oauth.callback":
            continue
        if rule.endpoint in ("api_tokens.create", "api_tokens.revoke"):
            continue  # a viewer's own read-only tokens (tests/admin/test_api_tokens_page.py)
        assert viewer.post(url, data={"csrf_token": token}).status_code == 403, url


ADMIN_ONLY = (
    "/admin/project/plugins/?id=1",
    "/admin/project/link/?id=1",
    "/admin/companies/create",
    "/admin/catalog/import?id=1",
    "/admin/bills/delete?id=1",
    "/admin/invoices/new?project_id=1",
    "/qbo/disconnect/1",
)


def test_support_is_refused_what_only_an_admin_may_do(client_as, committed_db):
    support = client_as(Role.SUPPORT)
    token = _csrf(support, "/admin/")
    for url in ADMIN_ONLY:
        assert support.post(url, data={"csrf_token": token}).status_code == 403, url
    # Flask-Admin sends a refused model form back to its list: nothing is written.
    support.post("/admin/costcode/new/", data={"csrf_token": token, "code": "X", "name": "X"})
    assert committed_db.scalars(select(CostCode)).all() == []


@pytest.fixture
def redis_down_app(runtime):
    """The web app on a runtime whose Redis refuses connections (nothing listens on port 1)."""
    from core.runtime import Runtime
    from costbridge_testing.services import web_app

    rt = Runtime(
        settings=runtime.settings.with_overrides({"redis_url": "redis://127.0.0.1:1/0"}),
        engine=runtime.engine,
        pm=runtime.pm,
    )
    with web_app(rt) as app:
        yield app
    rt.redis.close()


def test_with_redis_down_sign_in_is_paused_even_with_the_right_password(
    redis_down_app, runtime, committed_db, caplog
):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    client = redis_down_app.test_client()
    token = _csrf(client, "/signin")
    with caplog.at_level(logging.WARNING, logger="admin.auth"):
        for password in ["guess-1", "guess-2", PASSWORD]:
            page = client.post(
                "/signin",
                data={"csrf_token": token, "email": "ann@example.com", "password": password},
            ).get_data(as_text=True)
            assert "Sign-in is paused: the server cannot reach its job store" in page
            assert "Try again in a minute" in page
    # Not signed in: while failures cannot be counted, no password is checked at all.
    assert client.get("/admin/").status_code == 302
    refused = [r for r in caplog.records if r.name == "admin.auth"]
    assert len(refused) == 3
    assert all("Redis does not answer" in r.getMessage() for r in refused)
    assert all(PASSWORD not in r.getMessage() for r in refused)


def test_ten_failures_lock_the_address_out_even_for_the_right_password(app, runtime, committed_db):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    token = _csrf(client, "/signin")
    for n in range(10):
        client.post(
            "/signin", data={"csrf_token": token, "email": "ann@example.com", "password": f"x{n}"}
        )
    page = client.post(
        "/signin", data={"csrf_token": token, "email": "ann@example.com", "password": PASSWORD}
    ).get_data(as_text=True)
    assert "Too many failed attempts" in page
    assert client.get("/admin/").status_code == 302
