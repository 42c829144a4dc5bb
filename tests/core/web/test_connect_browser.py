"""The "Connect to QuickBooks" flow in a real browser: our app, the sandbox's consent, back.

Headless Chromium (Debian's package, driven by Playwright) clicks through the company page; the
web app and the sandbox each serve real HTTP on loopback ports. Skipped only where no Chromium
is installed (`.ci/run` installs it).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from core.models.company import Company
from core.models.company import ConnectionStatus
from core.runtime import Runtime
from costbridge_testing.sandbox import sandbox_settings
from costbridge_testing.services import dispose_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


@pytest.fixture
def live_app(settings, qbo_sandbox, engine, pm, redis_conn, committed_db) -> Iterator[str]:
    """The real web app on a free loopback port, its redirect URI naming that port."""
    holder: dict[str, Any] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}"
    from core import runtime as runtime_mod
    from core.app import create_app

    rt = Runtime(
        settings=sandbox_settings(
            settings, qbo_sandbox.url, qbo_redirect_uri=f"{base}/qbo/callback"
        ),
        engine=engine,
        pm=pm,
    )
    runtime_mod.install(rt)
    holder["app"] = create_app({"runtime": rt})
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield base
    server.shutdown()
    thread.join(5)
    dispose_app(holder["app"])
    runtime_mod.install(None)
    rt.redis.close()


def test_connect_to_quickbooks_in_a_real_browser(live_app, company, committed_db, engine):
    from playwright.sync_api import sync_playwright

    from core.db import session_factory
    from costbridge_testing.console import add_user

    add_user(
        session_factory(engine),
        "connect-admin@example.com",
        "admin",
        password="connect-admin-password",
    )

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(f"{live_app}/admin/company/")
            page.fill("#email", "connect-admin@example.com")
            page.fill("#password", "connect-admin-password")
            page.click("button[type=submit]")
            page.click(f'a[href="/admin/companies/company?id={company.id}"]')
            page.click("text=Connect to QuickBooks")
            page.wait_for_url(f"{live_app}/qbo/company/{company.id}*")
            body = page.content()
        finally:
            browser.close()
    assert "Connected" in body
    committed_db.expire_all()
    stored = committed_db.scalars(select(Company).where(Company.id == company.id)).one()
    assert stored.connection_status == ConnectionStatus.CONNECTED
    assert stored.realm_id
    assert stored.refresh_token_enc
    assert "access_token" not in body
