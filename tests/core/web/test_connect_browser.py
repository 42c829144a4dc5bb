"""The "Connect to QuickBooks" flow in a real browser: our app, the sandbox's consent, back.

Headless Chromium (Debian's package, driven by Playwright) clicks through the company page; the
web app and the sandbox each serve real HTTP on loopback ports. Skipped only where no Chromium
is installed (`.ci/run` installs it).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.models.company import Company
from core.models.company import ConnectionStatus
from costbridge_testing.services import app_base
from costbridge_testing.services import served_app
from tests.csp_watch import CspWatch
from tests.csp_watch import WatchedBrowser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


@pytest.fixture
def live_app(settings, qbo_sandbox, engine, pm, redis_conn, committed_db) -> Iterator[str]:
    """The real web app on a free loopback port, its redirect URI naming that port."""
    with served_app(settings, qbo_sandbox.url, engine, pm) as rt:
        yield app_base(rt)


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
        watch = CspWatch()
        try:
            page = WatchedBrowser(browser, watch).new_page()
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
    watch.assert_none()
    assert "Connected" in body
    committed_db.expire_all()
    stored = committed_db.scalars(select(Company).where(Company.id == company.id)).one()
    assert stored.connection_status == ConnectionStatus.CONNECTED
    assert stored.realm_id
    assert stored.refresh_token_enc
    assert "access_token" not in body
