"""Browser hardening: headers, cookies, no server banner, local return URLs, 4xx for bad ids."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from core.app import create_app
from core.config import Settings
from core.models import Company
from core.models import CostCode
from core.runtime import Runtime
from core.serve import QuietRequestHandler
from core.web.hardening import SAFE_WORDS
from core.web.hardening import is_local_path
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from costbridge_testing.services import web_app


@pytest.fixture
def admin(app: Flask, runtime: Runtime, committed_db: Any) -> FlaskClient:
    return sign_in(app.test_client(), runtime.sessions, add_user(runtime.sessions, "h@example.com"))


@pytest.fixture
def saved(committed_db: Any) -> Company:
    row = Company(name="Ridgeline Builders")
    committed_db.add(row)
    committed_db.commit()
    return row


@pytest.mark.parametrize("path", ["/admin/", "/qbo/company/1", "/healthz", "/webhooks/qbo"])
def test_every_answer_forbids_framing_sniffing_and_cross_site_referrers(
    admin: FlaskClient, path: str
) -> None:
    resp = admin.get(path)
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    # Development serves plain HTTP on loopback: HSTS there would lock the browser out.
    assert "Strict-Transport-Security" not in resp.headers


def test_production_answers_carry_hsts(runtime: Runtime) -> None:
    production = Runtime(
        settings=runtime.settings.with_overrides({"env": "production"}),
        engine=runtime.engine,
        pm=runtime.pm,
    )
    with web_app(production) as app:
        for path in ("/signin", "/healthz", "/qbo/company/1"):
            resp = app.test_client().get(path, base_url="https://127.0.0.1")
            hsts = resp.headers["Strict-Transport-Security"]
            assert hsts == "max-age=31536000; includeSubDomains"
            assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def test_production_cookies_are_secure_and_host_only(runtime: Runtime) -> None:
    production = Runtime(
        settings=runtime.settings.with_overrides({"env": "production"}),
        engine=runtime.engine,
        pm=runtime.pm,
    )
    with web_app(production) as app:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
        resp = app.test_client().get("/qbo/company/1", base_url="https://127.0.0.1")
        cookies = resp.headers.getlist("Set-Cookie")
        assert all("Secure" in c and "HttpOnly" in c for c in cookies)
    with web_app(runtime) as app:
        assert app.config["SESSION_COOKIE_SECURE"] is False


@pytest.fixture
def dev_server(runtime: Runtime) -> Iterator[str]:
    app = create_app({"runtime": runtime, "TESTING": True})
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_the_development_server_names_no_version(dev_server: str) -> None:
    server = requests.get(f"{dev_server}/healthz", timeout=10).headers.get("Server", "")
    assert "Werkzeug" not in server
    assert "Python" not in server
    assert not any(ch.isdigit() for ch in server)


@pytest.mark.parametrize(
    "target",
    [
        "http:evil.com",
        "http://evil.com/admin/",
        "//evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "javascript:alert(1)",
        " /admin/",
        "/admin/\t/x",
        "https:/evil.com",
    ],
)
def test_admin_return_urls_must_be_paths_on_this_site(
    admin: FlaskClient, saved: Company, target: str
) -> None:
    resp = admin.get("/admin/company/edit/", query_string={"id": saved.id, "url": target})
    assert resp.status_code == 400
    assert not is_local_path(target)


def test_a_local_return_url_still_works(admin: FlaskClient, saved: Company) -> None:
    resp = admin.get("/admin/company/edit/", query_string={"id": saved.id, "url": "/admin/"})
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/company/edit/?id=99999999999999999999",
        "/admin/company/details/?id=abc",
        "/admin/company/details/?id=2147483648",
        "/admin/company/?page=99999999999999999999",
        "/qbo/company/99999999999999999999",
    ],
)
def test_ids_out_of_range_or_malformed_are_4xx(admin: FlaskClient, path: str) -> None:
    resp = admin.get(path)
    assert 400 <= resp.status_code < 500
    for words in (b"SELECT", b"[SQL", b"psycopg", b"Traceback"):
        assert words not in resp.data


def test_a_database_error_is_never_shown_with_its_sql(
    admin: FlaskClient, saved: Company, committed_db: Any
) -> None:
    # (company, code) is UNIQUE: the second "100" fails at COMMIT with an IntegrityError,
    # whose text holds the INSERT and its parameters; Flask-Admin flashes `str(exc)`.
    committed_db.add(CostCode(company_id=saved.id, code="100", name="Framing"))
    committed_db.commit()
    page = admin.get("/admin/costcode/new/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    resp = admin.post(
        "/admin/costcode/new/",
        data={"csrf_token": token.group(1), "company": str(saved.id), "code": "100", "name": "x"},
        follow_redirects=True,
    )
    assert resp.status_code < 500
    text = resp.get_data(as_text=True)
    assert SAFE_WORDS in text
    for words in ("[SQL", "INSERT INTO", "parameters:", "psycopg", "UniqueViolation"):
        assert words not in text


def test_settings_from_env_keep_the_public_hosts(tmp_path: Any) -> None:
    settings = Settings.from_env(
        {
            "COSTBRIDGE_ENV": "test",
            "COSTBRIDGE_INSTANCE": str(tmp_path),
            "COSTBRIDGE_PUBLIC_HOSTS": "CB.Example.com, hooks.example.com.",
        }
    )
    assert settings.public_hosts == ("cb.example.com", "hooks.example.com")
