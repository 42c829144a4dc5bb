"""The console in a real browser: sign in, connect QuickBooks, link, toggles, sync, queue.

Headless Chromium (Debian's package, driven by Playwright) against the real web app on a
loopback port, a QBO sandbox of its own holding a small demo company, real PostgreSQL and Redis.
Jobs run through a burst `SimpleWorker` on the real queues while the browser polls; attachments
are the pull's own read-only copies of the demo bills' files. Screenshots
of the home page, budget, settings form and queue view go to `test-output/screenshots/`
(ignored by git; `COSTBRIDGE_SCREENSHOTS` names another folder).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import func
from sqlalchemy import select

from core.db import session_factory
from core.files import store_for
from core.jobs import queues
from core.models import Actual
from core.models import Attachment
from core.models import AttachmentOrigin
from core.models import BudgetLine
from core.models import Company
from core.models import ConnectionStatus
from core.models import CostCode
from core.models import Project
from core.models import Role
from core.models import Vendor
from costbridge_testing.console import add_user
from costbridge_testing.sandbox import Control
from costbridge_testing.sandbox import start_sandbox
from costbridge_testing.services import app_base
from costbridge_testing.services import served_app
from tests.csp_watch import CspWatch
from tests.csp_watch import WatchedBrowser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
REALM = "4620816365301234"
PASSWORD = "console-admin-password"
SHOTS = Path(
    os.environ.get("COSTBRIDGE_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
)


@pytest.fixture(scope="module")
def demo_sandbox() -> Iterator[Any]:
    """A sandbox whose consent page picks a small demo company (about 600 cost lines)."""
    server = start_sandbox(seed="none")  # the consent page picks its only company
    Control(server.url)._post("seed", {"kind": "demo", "realm_id": REALM, "size": 0.06})
    yield server
    server.stop()


@pytest.fixture
def live(settings, demo_sandbox, engine, pm, redis_conn, committed_db) -> Iterator[Any]:
    """The real web app on a free loopback port; `live.base`, `live.rt`, `live.work()`."""
    with served_app(settings, demo_sandbox.url, engine, pm) as rt:

        class Live:
            def __init__(self) -> None:
                self.base = app_base(rt)
                self.rt = rt
                self.sessions = session_factory(engine)

            def work(self) -> None:
                """Run every queued job once (the worker a deployment runs)."""
                qs = [queues.queue(n, rt.redis) for n in queues.ALL]
                SimpleWorker(qs, connection=rt.redis, serializer=JSONSerializer).work(burst=True)

        yield Live()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
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
            yield WatchedBrowser(chromium, watch)
        finally:
            chromium.close()
        # Every page of every test ran under the strict policy without one violation.
        watch.assert_none()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/admin/")
    assert "/signin" in page.url
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _company_and_project(live: Any) -> tuple[int, int]:
    with live.sessions() as s:
        company = Company(name="Ridgeline Builders")
        s.add(company)
        s.flush()
        project = Project(company_id=company.id, name="Kitchen Addition", settings={})
        s.add(project)
        s.commit()
        return company.id, project.id


def _connect_codes(live: Any, company_id: int, project_id: int) -> None:
    """Cost codes for the realm's items with budgets (the cost-code import is issue 12's)."""
    from core.qbo import client_for

    with live.sessions() as s:
        company = s.get(Company, company_id)
        assert company is not None
        client = client_for(live.rt, company.realm_id or "")
        kinds = ("Service", "NonInventory")
        items = [i for i in client.query_all("Item") if i.get("Type") in kinds]
        for n, item in enumerate(items[:12]):
            code = CostCode(
                company_id=company_id,
                code=f"{n + 1:02d}-100",
                name=str(item.get("Name"))[:200],
                qbo_item_id=str(item["Id"]),
                qbo_item_name=str(item.get("FullyQualifiedName") or item.get("Name")),
                sells=bool(item.get("IncomeAccountRef")),
                purchases=bool(item.get("ExpenseAccountRef")),
            )
            s.add(code)
            s.flush()
            s.add(
                BudgetLine(
                    project_id=project_id,
                    cost_code_id=code.id,
                    budget_amount=Decimal(5000 + 2500 * (n % 4)),
                )
            )
        s.commit()


def test_admin_connects_links_flips_toggles_and_syncs_expenses_in_a_browser(live, browser):
    company_id, project_id = _company_and_project(live)
    add_user(live.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})

    # A stranger gets the sign-in page, never the console.
    anonymous = page.request.get(f"{live.base}/admin/project/", max_redirects=0)
    assert anonymous.status == 302
    assert "/signin" in anonymous.headers["location"]
    sign_in(page, live.base, "ann@example.com")

    # Company Settings - Integrations: connect through the sandbox's consent page.
    page.click(f'#companies a[href="/admin/companies/company?id={company_id}"]')
    page.click("text=Connect to QuickBooks")
    page.wait_for_url(re.compile(r".*/qbo/company/\d+\?m=connected"))
    assert page.inner_text("#connection-status") == "Connected"
    with live.sessions() as s:
        company = s.get(Company, company_id)
        assert company is not None
        assert company.connection_status == ConnectionStatus.CONNECTED
        assert page.inner_text("#qbo-company-name") == company.qbo_company_name
    _connect_codes(live, company_id, project_id)

    # Project Details - Financials: the drop-down lists customers, sub-customers and projects.
    page.goto(f"{live.base}/admin/project/settings/?id={project_id}")
    options = page.locator("#customer_id option").all_inner_texts()
    wanted = next(o for o in options if o.startswith("Maple Street Remodel:Kitchen Addition"))
    page.select_option("#customer_id", label=wanted)
    page.click("text=Connect Project")
    assert "Maple Street Remodel:Kitchen Addition" in page.inner_text("#linked-customer")

    # Every toggle: each saves alone, or is refused saying what is missing.
    toggles = page.locator("#settings-form input[type=checkbox]")
    keys = [toggles.nth(i).get_attribute("id") for i in range(toggles.count())]
    assert {"push_bills", "vendor_credits", "time_tracking", "send_invoices"} <= set(keys)
    refused: dict[str, str] = {}
    for key in keys:
        box = page.locator(f"#settings-form #{key}")
        before = box.is_checked()
        page.locator(f"label[for={key}]").click()
        page.click("#settings-form button[type=submit]")
        alerts = page.locator(".alert-danger").all_inner_texts()
        if alerts:
            refused[key] = " ".join(alerts)
            assert page.locator(f"#settings-form #{key}").is_checked() != before
            page.goto(f"{live.base}/admin/project/settings/?id={project_id}")
        else:
            assert "Settings saved." in page.content()
        assert page.locator(f"#settings-form #{key}").is_checked() == (
            before if key in refused else not before
        )
    assert "Default billing cost code is not set" in refused["push_bills"]
    assert "Choose a Default billing cost code first" in refused["push_bills"]
    # With the code chosen, pushing bills is accepted.
    page.select_option("#default_billing_cost_code", index=1)
    page.locator("label[for=push_bills]").click()
    page.click("#settings-form button[type=submit]")
    assert "Settings saved." in page.content()
    shot(page, "settings-form")

    # Budget: Sync Expenses queues a pull; the page shows progress until the worker is done.
    page.goto(f"{live.base}/admin/budget/?project_id={project_id}")
    page.click("#sync-expenses")
    page.wait_for_selector("#sync-progress .progress")
    live.work()
    # (Not wait_for_function: a string predicate is an eval, which the page's policy refuses.)
    page.wait_for_selector("#sync-progress .progress", state="detached", timeout=20000)
    with live.sessions() as s:
        counted = s.scalar(
            select(func.count())
            .select_from(Actual)
            .where(Actual.project_id == project_id, Actual.excluded_reason.is_(None))
        )
        assert counted
        # "Pull bill attachments" was turned on above: the pull copied the bills' files.
        pulled = s.scalars(
            select(Attachment)
            .where(Attachment.project_id == project_id, Attachment.actual_id.is_not(None))
            .order_by(Attachment.id)
        ).first()
        assert pulled is not None
        assert pulled.origin == AttachmentOrigin.QBO
        assert pulled.read_only
        actual = s.get(Actual, pulled.actual_id)
        assert actual is not None
        content = store_for(live.rt.settings.instance_path).get(pulled.storage_key)
        code_key = str(actual.cost_code_id) if actual.cost_code_id else "uncoded"
    assert page.inner_text("#total-actual") != "0.00"
    shot(page, "budget")

    # Applied Actuals: the pop-up lists the line with its lineage and its 📎.
    page.click(f'tr[data-code="{code_key}"] a.cb-applied')
    page.wait_for_selector(f'#applied-actuals tr[data-actual="{actual.id}"]')
    row = page.locator(f'#applied-actuals tr[data-actual="{actual.id}"]')
    assert f"{actual.qbo_entity} {actual.qbo_id} line {actual.qbo_line_id}" in row.inner_text()
    clip = row.locator("a.cb-paperclip").first
    assert clip.get_attribute("title") == f"{pulled.file_name} (read-only)"
    download = page.request.get(live.base + (clip.get_attribute("href") or ""))
    assert download.status == 200
    assert download.body() == content
    if actual.payee:
        page.fill(".cb-popup-search input[name=q]", actual.payee)
        page.click(".cb-popup-search button")
        page.wait_for_selector(f'#applied-actuals tr[data-actual="{actual.id}"]')
    shot(page, "applied-actuals")

    # The Files tab lists it too, marked read-only.
    page.goto(f"{live.base}/admin/files/?project_id={project_id}")
    files = page.inner_text("#files")
    assert pulled.file_name in files
    assert "from QuickBooks · read-only" in files

    page.goto(f"{live.base}/admin/")
    assert "Maple Street Remodel:Kitchen Addition" in page.inner_text("#projects")
    shot(page, "home")


def test_a_viewer_sees_settings_but_cannot_change_them(live, browser):
    _company_id, project_id = _company_and_project(live)
    add_user(live.sessions, "val@example.com", Role.VIEWER, password=PASSWORD)
    page = browser.new_page()
    sign_in(page, live.base, "val@example.com")
    page.goto(f"{live.base}/admin/project/settings/?id={project_id}")
    assert "Only an admin can change these settings." in page.content()
    assert page.locator("#settings-form button[type=submit]").count() == 0
    token = page.locator("#settings-form input[name=csrf_token]").get_attribute("value")
    resp = page.request.post(
        f"{live.base}/admin/project/settings/?id={project_id}",
        form={"csrf_token": token or "", "vendor_credits": "on"},
    )
    assert resp.status == 403
    with live.sessions() as s:
        project = s.get(Project, project_id)
        assert project is not None
        assert not (project.settings or {}).get("vendor_credits")


def test_support_retries_a_failed_job_from_the_queue_view_and_it_succeeds(live, browser):
    from core.sync.jobs import pull_job

    add_user(live.sessions, "sam@example.com", Role.SUPPORT, password=PASSWORD)
    # A pull queued for a company that was not there yet (say, restored from a backup later).
    queues.enqueue(
        live.rt.redis,
        queues.PULL,
        pull_job,
        job_id="pull-424242-1",
        kwargs={"company_id": 424242, "run_id": 1},
        meta={"company_id": 424242, "kind": "pull"},
        retry=None,
    )
    live.work()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    sign_in(page, live.base, "sam@example.com")
    page.click("#jobs-failed")
    assert "There is no company 424242." in page.inner_text(".cb-failure-group")
    assert page.locator('#jobs tr[data-job="pull-424242-1"] details').count() == 1
    shot(page, "queue")

    with live.sessions() as s:
        s.add(Company(id=424242, name="Restored Builders"))
        s.commit()
    page.click('#jobs tr[data-job="pull-424242-1"] button.cb-retry')
    assert "1 job(s) put back on the queue." in page.content()
    live.work()
    page.click("#tab-finished")
    assert page.locator('#jobs tr[data-job="pull-424242-1"]').count() == 1
    page.click("#tab-failed")
    assert page.locator('#jobs tr[data-job="pull-424242-1"]').count() == 0


def _connect(page: Any, base: str, company_id: int) -> None:
    page.goto(f"{base}/admin/companies/company?id={company_id}")
    page.click("text=Connect to QuickBooks")
    page.wait_for_url(re.compile(r".*/qbo/company/\d+\?m=connected"))


def test_admin_enters_a_bill_with_a_file_pushes_it_and_sees_its_qbo_id(live, browser):
    from core.projects import customer_choices
    from core.projects import link_project
    from core.projects import resolve_customer
    from core.qbo import client_for

    company_id, project_id = _company_and_project(live)
    add_user(live.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, live.base, "ann@example.com")
    _connect(page, live.base, company_id)
    with live.sessions() as s:
        company = s.get(Company, company_id)
        project = s.get(Project, project_id)
        assert company is not None
        assert project is not None
        choices = customer_choices(client_for(live.rt, company.realm_id or ""))
        choice = resolve_customer(choices, "Maple Street Remodel:Kitchen Addition")
        link_project(s, live.rt.pm, project, choice)
        s.commit()

    # Company Settings - Cost codes: import Products & Services and vendors in bulk.
    page.click("#catalog-link")
    page.click("#import-cost_codes")
    assert "Imported Products & Services" in page.inner_text("body")
    # One vendor entered here first is connected from its QuickBooks drop-down.
    with live.sessions() as s:
        s.add(Vendor(company_id=company_id, name="Yard Crew (entered here)"))
        s.commit()
    page.reload()
    row = page.locator("#connect-vendor tr", has_text="Yard Crew (entered here)")
    assert "not connected" in row.inner_text()
    choice = row.locator("select[name=qbo_id] option").nth(2)
    qbo_vendor = choice.get_attribute("value")
    row.locator("select[name=qbo_id]").select_option(value=qbo_vendor)
    row.locator("button", has_text="Connect").click()
    assert "Yard Crew (entered here) connected to QuickBooks." in page.inner_text("body")
    with live.sessions() as s:
        local = s.scalars(select(Vendor).where(Vendor.name == "Yard Crew (entered here)")).one()
        assert local.qbo_vendor_id == qbo_vendor

    # Then the rest in bulk.
    page.click("#import-vendors")
    assert "Imported vendors" in page.inner_text("body")
    page.wait_for_selector("#connect-vendor tbody tr >> nth=1")

    # Push bills on, with a default billing code QuickBooks can use.
    page.goto(f"{live.base}/admin/project/settings/?id={project_id}")
    usable = [
        o.get_attribute("value")
        for o in page.locator("#default_billing_cost_code option").all()
        if o.get_attribute("value") and "(" not in o.inner_text()
    ]
    page.select_option("#default_billing_cost_code", value=usable[0])
    page.locator("label[for=push_bills]").click()
    page.click("#settings-form button[type=submit]")
    assert "Settings saved." in page.content()

    # A bill with a PDF, entered in the console, goes through the outbox to QuickBooks.
    page.goto(f"{live.base}/admin/bills/?project_id={project_id}")
    page.click("#new-bill")
    page.fill("#number", "HL-2211")
    # Dated in the demo's open books whatever day the test runs (they close 18 months back).
    page.fill("#bill_date", dt.datetime.now(ZoneInfo("America/Los_Angeles")).date().isoformat())
    page.fill("#line-0-amount", "1250.00")
    page.set_input_files(
        "#files",
        files=[{"name": "hl-2211.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}],
    )
    page.click("#bill-form button[type=submit]")
    assert "Bill HL-2211 saved." in page.content()
    row = page.locator("#bills tbody tr").first
    assert "pending" in row.inner_text()
    assert "hl-2211.pdf" in row.inner_text()
    live.work()
    page.reload()
    row = page.locator("#bills tbody tr").first
    qbo_id = row.locator(".cb-qbo-id").inner_text()
    assert qbo_id.isdigit()
    assert "done" in row.inner_text()
    shot(page, "bills")


def test_a_page_on_another_site_cannot_post_to_the_console(live, browser):
    """Recipe 9: an attacker's page auto-submits a form at the signed-in admin's console."""
    import http.server

    add_user(live.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    form = (
        f'<form id="f" method="post" action="{live.base}/admin/companies/create">'
        '<input name="name" value="Forged Builders"></form>'
        "<script>document.getElementById('f').submit()</script>"
    ).encode()

    class Attacker(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(form)

        def log_message(self, *args: Any) -> None:
            pass

    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        sign_in(page, live.base, "ann@example.com")
        # "localhost" is another site than "127.0.0.1": the session cookie (SameSite=Lax) stays
        # home, and without the form's CSRF token the post is refused either way.
        page.goto(f"http://localhost:{evil.server_port}/")
        page.wait_for_url(f"{live.base}/admin/companies/create")
        assert "The CSRF token is missing." in page.content()
        assert page.request.post(f"{live.base}/admin/companies/create").status == 400
    finally:
        evil.shutdown()
        evil.server_close()
    with live.sessions() as s:
        assert s.scalars(select(Company).where(Company.name == "Forged Builders")).all() == []


def test_every_main_page_runs_under_the_strict_csp_and_its_scripts_still_work(live, browser):
    """Walk the console as an admin; the `browser` fixture fails the test on any CSP violation."""
    company_id, project_id = _company_and_project(live)
    add_user(live.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, live.base, "ann@example.com")
    response = page.goto(f"{live.base}/admin/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    _connect(page, live.base, company_id)
    _connect_codes(live, company_id, project_id)
    page.goto(f"{live.base}/admin/project/settings/?id={project_id}")
    page.select_option("#customer_id", index=1)
    page.click("text=Connect Project")
    page.goto(f"{live.base}/admin/budget/?project_id={project_id}")
    page.click("#sync-expenses")
    page.wait_for_selector("#sync-progress .progress")
    live.work()
    # (Not wait_for_function: a string predicate is an eval, which the page's policy refuses.)
    page.wait_for_selector("#sync-progress .progress", state="detached", timeout=20000)

    # The Applied Actuals pop-up (console.js) opens and fills.
    page.locator("a.cb-applied").first.click()
    page.wait_for_selector("#applied-actuals")

    for path in (
        "/admin/",
        "/admin/companies/",
        f"/admin/companies/company?id={company_id}",
        f"/qbo/switch/{company_id}",
        "/admin/project/",
        f"/admin/project/settings/?id={project_id}",
        f"/admin/bills/?project_id={project_id}",
        f"/admin/bills/new?project_id={project_id}",
        f"/admin/invoices/?project_id={project_id}",
        f"/admin/invoices/new?project_id={project_id}",
        f"/admin/time/?project_id={project_id}",
        f"/admin/time/new?project_id={project_id}",
        f"/admin/files/?project_id={project_id}",
        "/admin/queue/",
        "/admin/synclog/",
        "/admin/pushes/",
        "/admin/vendor/",
        "/admin/vendor/new/",
        "/admin/actual/",
        "/admin/syncrun/",
    ):
        answer = page.goto(live.base + path)
        assert answer is not None
        assert answer.status == 200, path
        html = page.content()
        assert "javascript:" not in html, path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path

    # Flask-Admin's filter menu (its inline `onclick` and `javascript:` link are gone): picking a
    # filter adds its row and leaves the page where it was.
    page.goto(f"{live.base}/admin/actual/")
    page.click("text=Add Filter")
    page.locator("a.filter", has_text="Actual Type").first.click()
    page.wait_for_selector(".filter-op")
    assert page.url == f"{live.base}/admin/actual/"

    # A row's delete asks first (data-cb-confirm): declined, nothing goes; accepted, it goes.
    with live.sessions() as s:
        s.add(Vendor(company_id=company_id, name="Temporary Vendor"))
        s.commit()
    page.goto(f"{live.base}/admin/vendor/")
    row = page.locator("tr", has_text="Temporary Vendor")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("form button").first.click()
    page.wait_for_timeout(300)
    with live.sessions() as s:
        assert s.scalars(select(Vendor).where(Vendor.name == "Temporary Vendor")).one_or_none()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        row.locator("form button").first.click()
    with live.sessions() as s:
        assert (
            s.scalars(select(Vendor).where(Vendor.name == "Temporary Vendor")).one_or_none() is None
        )

    # "With selected" -> Delete (data-cb-action) runs Flask-Admin's action after its question:
    # the action form is posted. (What the server then does with it is not this test's.)
    with live.sessions() as s:
        s.add(Vendor(company_id=company_id, name="Another Temporary Vendor"))
        s.commit()
    page.goto(f"{live.base}/admin/vendor/")
    page.locator("tr", has_text="Another Temporary Vendor").locator("input.action-checkbox").check()
    page.click("text=With selected")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_request(lambda r: r.method == "POST" and "/admin/vendor/action" in r.url):
        page.locator("[data-cb-action]").first.click()
    shot(page, "csp-walk")
