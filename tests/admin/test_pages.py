"""Console pages through Flask's test client: plugins, documents, checks, queue, offline assets."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import select

from core.jobs import board
from core.jobs import queues
from core.models import Company
from core.models import ConnectionStatus
from core.models import Employee
from core.models import Invoice
from core.models import InvoiceStatus
from core.models import SettingChange
from core.models import SyncRun
from core.models import TimeEntry
from core.sync.jobs import pull_job
from tests.factories import make_company
from tests.factories import make_cost_code
from tests.factories import make_project


def _csrf(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def project(committed_db):
    row = make_project(committed_db, linked=True, enabled_plugins=None)
    make_cost_code(committed_db, row.company, code="01-100", name="General Conditions")
    committed_db.commit()
    return row


def test_turning_a_plugin_off_is_recorded_and_hides_its_settings(web_client, committed_db, project):
    url = f"/admin/project/settings/?id={project.id}"
    assert "Vendor credits" in web_client.get(url).get_data(as_text=True)
    installed = re.findall(r'name="plugin" value="([^"]+)"', web_client.get(url).get_data(True))
    keep = [name for name in installed if name != "qbo_vendor_credits"]
    resp = web_client.post(
        f"/admin/project/plugins/?id={project.id}",
        data={"csrf_token": _csrf(web_client, url), "plugin": keep},
    )
    assert resp.status_code == 302
    page = web_client.get(url).get_data(as_text=True)
    assert "Plugins changed: qbo_vendor_credits." in page
    assert 'id="vendor_credits"' not in page
    committed_db.expire_all()
    change = committed_db.scalars(
        select(SettingChange).where(SettingChange.project_id == project.id)
    ).one()
    assert change.key == "plugin:qbo_vendor_credits"
    assert change.new_value is False
    assert change.changed_by.startswith("console:admin-")


def test_invoice_with_markup_is_entered_and_can_be_marked_paid_while_not_integrated(
    web_client, committed_db, project
):
    url = f"/admin/invoices/new?project_id={project.id}"
    resp = web_client.post(
        url,
        data={
            "csrf_token": _csrf(web_client, url),
            "number": "INV-7",
            "invoice_date": "2026-04-01",
            "markup_percent": "10",
            "line-0-amount": "1000.00",
            "line-0-description": "Framing, phase 1",
        },
    )
    assert resp.status_code == 302
    listing = web_client.get(f"/admin/invoices/?project_id={project.id}").get_data(as_text=True)
    assert "INV-7" in listing
    assert "100.00" in listing  # the markup, on its own line
    invoice = committed_db.scalars(select(Invoice)).one()
    assert invoice.status == InvoiceStatus.DRAFT
    token = _csrf(web_client, f"/admin/invoices/?project_id={project.id}")
    web_client.post(f"/admin/invoices/paid?id={invoice.id}", data={"csrf_token": token})
    committed_db.expire_all()
    assert committed_db.get(Invoice, invoice.id).status == InvoiceStatus.PAID


def test_time_entry_made_while_time_tracking_is_off_is_never_pushed(
    web_client, committed_db, project
):
    employee = Employee(company_id=project.company_id, name="Dana Ruiz", qbo_employee_id="55")
    committed_db.add(employee)
    committed_db.commit()
    url = f"/admin/time/new?project_id={project.id}"
    web_client.post(
        url,
        data={
            "csrf_token": _csrf(web_client, url),
            "employee_id": str(employee.id),
            "work_date": "2026-04-02",
            "hours": "7.5",
            "billable": "on",
        },
    )
    entry = committed_db.scalars(select(TimeEntry)).one()
    assert entry.hours == Decimal("7.50")
    listing = web_client.get(f"/admin/time/?project_id={project.id}").get_data(as_text=True)
    assert "not sent" in listing
    token = _csrf(web_client, f"/admin/time/?project_id={project.id}")
    page = web_client.post(
        f"/admin/time/push?id={entry.id}", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "never recorded for QuickBooks" in page


def test_doctor_and_dry_run_say_what_is_missing_in_words(web_client, committed_db):
    company = make_company(committed_db)
    project = make_project(committed_db, company, name="Unlinked Remodel")
    committed_db.commit()
    doctor = web_client.get(f"/admin/budget/doctor?project_id={project.id}").get_data(True)
    assert "is not linked to a QuickBooks customer" in doctor
    assert "is not connected to QuickBooks" in doctor
    url = f"/admin/budget/?project_id={project.id}"
    preview = web_client.post(
        f"/admin/budget/preview?project_id={project.id}",
        data={"csrf_token": _csrf(web_client, url)},
    ).get_data(as_text=True)
    assert "Nothing was written." in preview
    assert "is not connected to QuickBooks" in preview
    assert committed_db.scalars(select(SyncRun)).all() == []


def test_reconnect_banner_shows_on_every_page_while_a_grant_is_dead(web_client, committed_db):
    make_company(
        committed_db,
        name="Ridgeline Builders",
        connection_status=ConnectionStatus.RECONNECT_NEEDED,
        connection_problem="QuickBooks no longer accepts the saved sign-in.",
    )
    committed_db.commit()
    for page in ("/admin/", "/admin/costcode/", "/admin/queue/", "/admin/synclog/"):
        body = web_client.get(page).get_data(as_text=True)
        assert "Ridgeline Builders lost its QuickBooks connection." in body, page
        assert "Reconnect to QuickBooks" in body


def test_every_page_loads_its_assets_from_this_server(web_client, committed_db, project):
    for page in ("/signin", "/admin/", f"/admin/budget/?project_id={project.id}"):
        body = web_client.get(page).get_data(as_text=True)
        external = re.findall(r'(?:src|href)="(https?://[^"]+)"', body)
        assert external == [], (page, external)


def _failing_pulls(runtime, n):
    for i in range(n):
        queues.enqueue(
            runtime.redis,
            queues.PULL,
            pull_job,
            job_id=f"pull-9{i}-1",
            kwargs={"company_id": 900 + i, "run_id": 1},
            meta={"kind": "pull"},
            retry=None,
        )
    qs = [queues.queue(n, runtime.redis) for n in queues.ALL]
    SimpleWorker(qs, connection=runtime.redis, serializer=JSONSerializer).work(burst=True)


def test_failures_are_grouped_by_cause_and_a_group_is_retried_at_once(
    web_client, committed_db, runtime, redis_conn
):
    _failing_pulls(runtime, 3)
    page = web_client.get("/admin/queue/?state=failed").get_data(as_text=True)
    # One group for the three: numbers in the words do not split a cause.
    assert re.search(r"<strong>There is no company 90\d\. Run .*</strong>: 3 job\(s\)", page)
    token = _csrf(web_client, "/admin/queue/")
    resp = web_client.post(
        "/admin/queue/retry",
        data={"csrf_token": token, "job_id": ["pull-90-1", "pull-91-1", "pull-92-1"]},
        follow_redirects=True,
    )
    assert "3 job(s) put back on the queue." in resp.get_data(as_text=True)
    assert board.counts(runtime.redis)["queued"] == 3


def test_retry_all_and_cancel_from_the_queue_view(web_client, committed_db, runtime, redis_conn):
    _failing_pulls(runtime, 2)
    token = _csrf(web_client, "/admin/queue/")
    web_client.post("/admin/queue/retry-all", data={"csrf_token": token})
    counts = board.counts(runtime.redis)
    assert counts["failed"] == 0
    assert counts["queued"] == 2
    web_client.post("/admin/queue/cancel", data={"csrf_token": token, "job_id": "pull-90-1"})
    assert board.counts(runtime.redis)["queued"] == 1


def test_sync_log_explains_each_run(web_client, committed_db):
    company = make_company(committed_db)
    committed_db.add(
        SyncRun(
            company_id=company.id,
            kind="pull",
            state="needs_admin",
            queued_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
            message="Ridgeline is not connected to QuickBooks (disconnected).",
            fix="Open the company page and choose Connect to QuickBooks (or Reconnect).",
            detail="12 line(s): non-billable bill lines are left out (setting)",
            counts={"records": 4, "added": 3},
        )
    )
    committed_db.commit()
    page = web_client.get("/admin/synclog/").get_data(as_text=True)
    assert "Ridgeline is not connected to QuickBooks" in page
    assert "non-billable bill lines are left out" in page
    assert "records 4" in page


def test_company_page_names_the_quickbooks_company(web_client, committed_db):
    company = Company(
        name="Ridgeline Builders",
        realm_id="9341452188453921",
        connection_status=ConnectionStatus.CONNECTED,
        qbo_company_name="Ridgeline Builders LLC (QuickBooks)",
    )
    committed_db.add(company)
    committed_db.commit()
    page = web_client.get(f"/qbo/company/{company.id}").get_data(as_text=True)
    assert "Ridgeline Builders LLC (QuickBooks)" in page
    assert "Disconnect QuickBooks" in page
    assert 'class="navbar' in page  # inside the console's look
