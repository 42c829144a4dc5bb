"""Company-scoped access (issue 22, finding 8): a user limited to company 1 never sees company 2.

Two companies with distinctive names and values (projects, cost codes, vendors, actuals, bills,
invoices, time, files, sync runs, waiting pushes, queued jobs). A company-1-only user of each
role crawls every link the console shows them and never meets a company-2 string; every page,
list, download and action naming a company-2 id, tried directly, answers 404 (as an id of no
row does). The crawl follows links, so pages added later are covered too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from decimal import Decimal
from urllib.parse import urldefrag
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask_admin.contrib.sqla import ModelView

from core.cli import main
from core.files import store_for
from core.models import Actual
from core.models import Attachment
from core.models import Bill
from core.models import BillLine
from core.models import BudgetLine
from core.models import Company
from core.models import ConnectionStatus
from core.models import CostCode
from core.models import Employee
from core.models import Invoice
from core.models import InvoiceLine
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import RemoteMapping
from core.models import Role
from core.models import RunState
from core.models import SyncCursor
from core.models import SyncRun
from core.models import TimeEntry
from core.models import User
from core.models import Vendor
from core.scope import visible_company_ids
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in

D = Decimal
DAY = dt.date(2026, 3, 2)
#: Strings only company 2's rows carry; none may appear on a page a company-1 user sees.
SECRETS = (
    "Zephyrwood",
    "Quillfeather",
    "Zanzibar Tower",
    "Zorblax",
    "Xantheum",
    "Vortigern",
    "zq-ledger.pdf",
    "Zulu outbox trouble",
    "Yonder pull broke",
    "9130777",
)
MAX_PAGES = 600


def _company(db, n: int, name: str, realm: str, status: ConnectionStatus, rt, words: dict):
    company = Company(name=name, realm_id=realm, connection_status=status)
    db.add(company)
    db.flush()
    project = Project(company_id=company.id, name=words["project"], enabled_plugins=None)
    db.add(project)
    db.flush()
    code = CostCode(company_id=company.id, code=f"0{n}-100", name=words["code"], qbo_item_id="1")
    vendor = Vendor(company_id=company.id, name=words["vendor"])
    employee = Employee(company_id=company.id, name=words["employee"])
    db.add_all([code, vendor, employee])
    db.flush()
    db.add(BudgetLine(project_id=project.id, cost_code_id=code.id, description=words["budget"]))
    run = SyncRun(
        company_id=company.id,
        project_id=project.id,
        kind="pull",
        state=RunState.FAILED,
        message=words["run"],
    )
    db.add(run)
    db.flush()
    actual = Actual(
        realm_id=realm,
        qbo_entity="Bill",
        qbo_id=f"{n}01",
        qbo_line_id="1",
        plugin="qbo_bills",
        project_id=project.id,
        cost_code_id=code.id,
        actual_type="bill",
        txn_date=DAY,
        payee=words["payee"],
        amount=D("1234.56"),
        sync_run_id=run.id,
    )
    bill = Bill(project_id=project.id, vendor_id=vendor.id, bill_date=DAY, memo=words["memo"])
    bill.lines = [BillLine(amount=D("10.00"), cost_code_id=code.id, description=words["memo"])]
    invoice = Invoice(project_id=project.id, invoice_date=DAY, memo=words["memo"])
    invoice.lines = [InvoiceLine(amount=D("20.00"), cost_code_id=code.id)]
    entry = TimeEntry(
        project_id=project.id,
        employee_id=employee.id,
        work_date=DAY,
        hours=D("8"),
        description=words["memo"],
    )
    db.add_all([actual, bill, invoice, entry])
    db.flush()
    key, digest = store_for(rt.settings.instance_path).put(words["file"].encode() * 3)
    file = Attachment(
        project_id=project.id,
        bill_id=bill.id,
        actual_id=actual.id,
        file_name=words["file"],
        content_type="application/pdf",
        size=10,
        sha256=digest,
        storage_key=key,
    )
    outbox = OutboxEntry(
        company_id=company.id,
        project_id=project.id,
        entity="Bill",
        local_kind="bill",
        local_id=bill.id,
        operation="create",
        idempotency_key=f"zq-key-{n}-{bill.id}",
        state=OutboxState.FAILED,
        last_error=words["outbox"],
    )
    db.add_all([file, outbox])
    db.add(
        RemoteMapping(
            realm_id=realm, entity="Bill", qbo_id=f"{n}77", local_kind="bill", local_id=bill.id
        )
    )
    db.add(SyncCursor(realm_id=realm, entity="Bill"))
    db.commit()
    return {
        Company: company.id,
        Project: project.id,
        CostCode: code.id,
        Vendor: vendor.id,
        Employee: employee.id,
        BudgetLine: db.query(BudgetLine.id).filter_by(project_id=project.id).scalar(),
        Bill: bill.id,
        Invoice: invoice.id,
        TimeEntry: entry.id,
        Attachment: file.id,
        Actual: actual.id,
        SyncRun: run.id,
        OutboxEntry: outbox.id,
        RemoteMapping: db.query(RemoteMapping.id).filter_by(realm_id=realm).scalar(),
        SyncCursor: db.query(SyncCursor.id).filter_by(realm_id=realm).scalar(),
    }


@pytest.fixture
def world(runtime, committed_db):
    one = _company(
        committed_db, 1, "Ridgeline Builders", "4620111", ConnectionStatus.DISCONNECTED, runtime,
        {"project": "Maple Street Remodel", "code": "Rough Framing", "vendor": "Hillside Lumber",
         "employee": "Dana Ortiz", "budget": "Framing budget", "run": "Ridgeline pull stalled",
         "payee": "Hillside Lumber", "memo": "Maple memo", "file": "maple-receipt.pdf",
         "outbox": "Maple outbox trouble"},
    )  # fmt: skip
    two = _company(
        committed_db, 2, "Zephyrwood Estates", "9130777", ConnectionStatus.RECONNECT_NEEDED,
        runtime,
        {"project": "Zanzibar Tower", "code": "Xantheum Cladding", "vendor": "Zorblax Supply",
         "employee": "Vortigern Hale", "budget": "Xantheum budget", "run": "Yonder pull broke",
         "payee": "Quillfeather Masonry", "memo": "Quillfeather memo", "file": "zq-ledger.pdf",
         "outbox": "Zulu outbox trouble"},
    )  # fmt: skip
    return one, two


def _limited_user(runtime, role: Role, company_id: int) -> int:
    from core.users import set_companies

    user_id = add_user(runtime.sessions, f"{role.value}-one@example.com", role)
    with runtime.sessions() as session:
        set_companies(session, session.get(User, user_id), [company_id])
        session.commit()
    return user_id


def _links(html: str) -> list[str]:
    found = []
    for raw in re.findall(r'(?:href|src|action|data-url)="([^"]+)"', html):
        url = urldefrag(raw.replace("&amp;", "&"))[0]
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not url.startswith("/"):
            continue
        # `/qbo/connect` is a POST (the Connect button); its company check is tried below.
        if "static" in parts.path or url.startswith(("/signout", "/qbo/connect")):
            continue
        found.append(url)
    return found


def _crawl(client) -> dict[str, int]:
    """Every console URL reachable by links from the home page: {url: status}."""
    seen: dict[str, int] = {}
    todo = deque(["/admin/"])
    while todo and len(seen) < MAX_PAGES:
        url = todo.popleft()
        if url in seen:
            continue
        resp = client.get(url)
        seen[url] = resp.status_code
        assert resp.status_code < 500, url
        body = (
            resp.get_data(as_text=True)
            if resp.mimetype.startswith(("text", "application/j"))
            else resp.get_data().decode("latin-1")
        )
        leaked = [s for s in SECRETS if s in body]
        assert not leaked, (url, leaked)
        if resp.status_code == 200 and resp.mimetype == "text/html":
            todo.extend(u for u in _links(body) if u not in seen)
    return seen


def _company_two_urls(app, two: dict) -> list[str]:
    """Every page of one company-2 row, by Flask-Admin's views and the console's own pages."""
    admin = app.extensions["admin"][0]
    urls = []
    for view in admin._views:
        if isinstance(view, ModelView) and view.model in two:
            for page in ("details", "edit"):
                urls.append(f"{view.url}/{page}/?id={two[view.model]}")
    p, c = two[Project], two[Company]
    urls += [
        f"/admin/budget/?project_id={p}",
        f"/admin/budget/actuals?project_id={p}",
        f"/admin/budget/doctor?project_id={p}",
        f"/admin/budget/run?id={two[SyncRun]}",
        f"/admin/bills/?project_id={p}",
        f"/admin/bills/new?project_id={p}",
        f"/admin/bills/edit?id={two[Bill]}",
        f"/admin/invoices/?project_id={p}",
        f"/admin/time/?project_id={p}",
        f"/admin/files/?project_id={p}",
        f"/admin/files/download?id={two[Attachment]}",
        f"/admin/synclog/?run={two[SyncRun]}",
        f"/admin/companies/company?id={c}",
        f"/admin/catalog/?id={c}",
        f"/admin/project/settings/?id={p}",
        f"/qbo/company/{c}",
        f"/qbo/switch/{c}",
    ]
    return urls


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SUPPORT, Role.ADMIN])
def test_a_company_one_user_never_sees_company_two(app, runtime, world, role):
    one, two = world
    client = sign_in(
        app.test_client(), runtime.sessions, _limited_user(runtime, role, one[Company])
    )
    pages = _crawl(client)
    # The crawl reached company 1's own pages (so the test would see a leak if there was one).
    home = client.get("/admin/").get_data(as_text=True)
    assert "Maple Street Remodel" in home
    assert "Ridgeline Builders" in home
    assert any("/admin/files/download" in u for u in pages)
    assert any(f"project_id={one[Project]}" in u for u in pages)
    assert len(pages) > 40
    for url in _company_two_urls(app, two):
        status = client.get(url).status_code
        nothing = client.get(re.sub(r"(=|/)\d+$", r"\g<1>999999", url)).status_code
        # The same answer as for an id of no row: 404, or (a page the role may not open at all)
        # Flask-Admin's redirect (a read-only view's edit) or the role's 403, given before any
        # row is read.
        assert status == nothing, (url, status, nothing)
        assert status == 404 or (status in (302, 403) and "details" not in url), (url, status)
    # The same URLs with an id of no row answer the same way.
    assert client.get("/admin/bill/details/?id=999999").status_code == 404


def _csrf(client) -> str:
    page = client.get("/admin/pushes/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_company_one_admin_cannot_act_on_company_two(app, runtime, world, committed_db):
    one, two = world
    client = sign_in(
        app.test_client(), runtime.sessions, _limited_user(runtime, Role.ADMIN, one[Company])
    )
    csrf = _csrf(client)
    posts = [
        ("/admin/pushes/cancel", {"id": two[OutboxEntry]}),
        ("/admin/pushes/retry", {"id": two[OutboxEntry]}),
        ("/admin/budget/sync", {"project_id": two[Project]}),
        (f"/admin/bills/delete?id={two[Bill]}", {}),
        (f"/admin/bills/push?id={two[Bill]}", {}),
        (f"/admin/invoices/paid?id={two[Invoice]}", {}),
        (f"/admin/time/delete?id={two[TimeEntry]}", {}),
        ("/admin/project/delete/", {"id": two[Project]}),
        ("/admin/costcode/delete/", {"id": two[CostCode]}),
        (f"/admin/vendor/edit/?id={two[Vendor]}", {"name": "Taken"}),
        ("/admin/companies/create", {"name": "Another company"}),
        ("/admin/catalog/connect", {"id": two[Company], "kind": "vendor", "local_id": two[Vendor]}),
        (f"/admin/project/plugins/?id={two[Project]}", {}),
        (f"/qbo/disconnect/{two[Company]}", {}),
        (f"/qbo/connect/{two[Company]}", {}),
    ]
    for url, data in posts:
        resp = client.post(url, data={"csrf_token": csrf, **data})
        assert resp.status_code == 404, (url, resp.status_code)
    # Flask-Admin's own company form refuses the save (its failure message; nothing is added).
    client.post("/admin/company/new/", data={"csrf_token": csrf, "name": "Another company"})
    committed_db.expire_all()
    assert committed_db.get(Vendor, two[Vendor]).name == "Zorblax Supply"
    assert committed_db.get(OutboxEntry, two[OutboxEntry]).state == OutboxState.FAILED
    assert committed_db.get(Project, two[Project]) is not None
    assert committed_db.query(Company).count() == 2
    # The project form offers only company 1.
    page = client.get("/admin/project/new/").get_data(as_text=True)
    assert "Ridgeline Builders" in page
    assert "Zephyrwood" not in page
    # Retry all: only company 1's failed push goes again.
    client.post("/admin/pushes/retry", data={"csrf_token": csrf, "all": "1"})
    committed_db.expire_all()
    assert committed_db.get(OutboxEntry, one[OutboxEntry]).state != OutboxState.FAILED
    assert committed_db.get(OutboxEntry, two[OutboxEntry]).state == OutboxState.FAILED


def test_users_of_every_company_still_see_everything(app, runtime, world, web_client):
    _one, two = world
    page = web_client.get("/admin/").get_data(as_text=True)
    assert "Zephyrwood Estates" in page
    assert "Zanzibar Tower" in page
    assert web_client.get(f"/admin/bill/details/?id={two[Bill]}").status_code == 200
    assert web_client.get(f"/admin/files/download?id={two[Attachment]}").status_code == 200


# -- the CLI ----------------------------------------------------------------------------------


def _cli(rt, *args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), obj=rt, input=stdin)


def test_users_are_limited_to_companies_from_the_command_line(runtime, committed_db):
    one = Company(name="Ridgeline Builders")
    two = Company(name="Zephyrwood Estates")
    committed_db.add_all([one, two])
    committed_db.commit()
    made = _cli(
        runtime, "users", "create", "book@example.com", "--role", "support",
        "--company", str(one.id), "--company", str(two.id), "--password-stdin",
        stdin="a long enough password\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "only Ridgeline Builders, Zephyrwood Estates" in made.output
    user = committed_db.query(User).filter_by(email="book@example.com").one()
    assert visible_company_ids(committed_db, user.id) == frozenset({one.id, two.id})
    changed = _cli(runtime, "users", "set-companies", "book@example.com", "--company", str(two.id))
    assert changed.exit_code == 0, changed.output
    committed_db.expire_all()
    assert visible_company_ids(committed_db, user.id) == frozenset({two.id})
    listed = _cli(runtime, "users", "list").output
    assert "book@example.com" in listed
    assert "only Zephyrwood Estates" in listed
    missing = _cli(runtime, "users", "set-companies", "book@example.com", "--company", "999999")
    assert missing.exit_code == 1
    assert "There is no company 999999" in missing.stderr
    neither = _cli(runtime, "users", "set-companies", "book@example.com")
    assert neither.exit_code == 1
    # Deleting the user's last company leaves them seeing none, never all.
    committed_db.delete(committed_db.get(Company, two.id))
    committed_db.commit()
    assert visible_company_ids(committed_db, user.id) == frozenset()
    everything = _cli(runtime, "users", "set-companies", "book@example.com", "--all-companies")
    assert everything.exit_code == 0
    assert "every company" in everything.output
    committed_db.expire_all()
    assert visible_company_ids(committed_db, user.id) is None
    plain = _cli(
        runtime, "users", "create", "all@example.com", "--password-stdin",
        stdin="a long enough password\n",
    )  # fmt: skip
    assert plain.exit_code == 0
    assert "every company" in plain.output
