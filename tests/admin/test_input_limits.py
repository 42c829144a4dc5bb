"""No 5xx from what a signed-in user types (issue 22, finding 5), and sizes checked first.

Malformed job ids are 404 before RQ sees them; money, hours and markup on the bill, invoice and
time forms go through `core.money.parse_amount` and come back as a form error in words; a value
longer than any form takes, or a list search of too many words, is refused before any work;
behind a trusted proxy a forwarded request is still never "this machine".
"""

from __future__ import annotations

import io
import random
import re

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core.models import Attachment
from core.models import BillLine
from core.models import Employee
from core.models import Invoice
from core.models import InvoiceLine
from core.models import Role
from core.models import TimeEntry
from core.models import Vendor
from core.runtime import Runtime
from core.web.access import from_this_machine
from core.web.limits import MAX_FIELD
from core.web.limits import MAX_SEARCH_TERMS
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from costbridge_testing.services import web_app
from tests.factories import make_cost_code
from tests.factories import make_project


def _csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, url
    return found.group(1)


@pytest.mark.parametrize("action", ["cancel", "retry"])
@pytest.mark.parametrize("job_id", ["a.b", "../../x", "", "x" * 201, "pull-1-1\n", "ü"])
def test_a_malformed_job_id_is_404(app, runtime, committed_db, action, job_id):
    uid = add_user(runtime.sessions, "support@example.com", Role.SUPPORT)
    client = sign_in(app.test_client(), runtime.sessions, uid)
    token = _csrf(client, "/admin/queue/")
    resp = client.post(f"/admin/queue/{action}", data={"csrf_token": token, "job_id": job_id})
    assert resp.status_code == 404


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_a_well_formed_job_id_of_no_job_says_so(app, runtime, committed_db, action):
    uid = add_user(runtime.sessions, "support@example.com", Role.SUPPORT)
    client = sign_in(app.test_client(), runtime.sessions, uid)
    token = _csrf(client, "/admin/queue/")
    resp = client.post(
        f"/admin/queue/{action}",
        data={"csrf_token": token, "job_id": "pull-000000000000-1-1"},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "could not be cancelled" in page or "No failed job to retry" in page


@pytest.fixture
def project(committed_db: Session):
    project = make_project(committed_db, linked=True, enabled_plugins=None)
    make_cost_code(committed_db, project.company, code="01-100", name="General Conditions")
    committed_db.add_all(
        [
            Vendor(company_id=project.company_id, name="Ace Lumber"),
            Employee(company_id=project.company_id, name="Dana Ruiz"),
        ]
    )
    committed_db.commit()
    return project


def _ids(committed_db: Session, project) -> dict[str, str]:
    vendor = committed_db.scalars(select(Vendor).where(Vendor.company_id == project.company_id))
    employee = committed_db.scalars(
        select(Employee).where(Employee.company_id == project.company_id)
    )
    return {"vendor_id": str(vendor.one().id), "employee_id": str(employee.one().id)}


BAD = {
    "10.005": "more decimals than cents",
    "NaN": "is not a number",
    "Infinity": "is not a number",
    "-inf": "is not a number",
    "1e400": "is not a number",
    "1E2": "is not a number",
    "99999999999999": "too large",
    "1000000000000": "too large",
    "ten": "is not a number",
}


@pytest.mark.parametrize(("raw", "words"), BAD.items())
@pytest.mark.parametrize(
    ("form", "field", "base", "model"),
    [
        ("bills", "line-0-amount", {"bill_date": "2026-04-01"}, BillLine),
        ("invoices", "line-0-amount", {"invoice_date": "2026-04-01"}, InvoiceLine),
        (
            "invoices",
            "line-0-markup",
            {"invoice_date": "2026-04-01", "line-0-amount": "10.00"},
            InvoiceLine,
        ),
    ],
)
def test_money_fields_refuse_what_is_not_cents_in_words(
    web_client, committed_db, project, raw, words, form, field, base, model
):
    url = f"/admin/{form}/new?project_id={project.id}"
    data = {**base, **_ids(committed_db, project), field: raw, "csrf_token": _csrf(web_client, url)}
    resp = web_client.post(url, data=data, follow_redirects=True)
    assert resp.status_code == 200
    assert words in resp.get_data(as_text=True)
    assert committed_db.scalars(select(model)).all() == []


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("1.23456", "more decimals than cents"),
        ("7.505", "more decimals than cents"),
        ("NaN", "is not a number"),
        ("Infinity", "is not a number"),
        ("1e400", "is not a number"),
        ("-3", "is negative"),
        ("10000000", "too large"),
    ],
)
def test_hours_refuse_what_is_not_hundredths_in_words(
    web_client, committed_db, project, raw, words
):
    url = f"/admin/time/new?project_id={project.id}"
    data = {
        "work_date": "2026-04-01",
        "hours": raw,
        **_ids(committed_db, project),
        "csrf_token": _csrf(web_client, url),
    }
    resp = web_client.post(url, data=data, follow_redirects=True)
    assert resp.status_code == 200
    assert words in resp.get_data(as_text=True)
    assert committed_db.scalars(select(TimeEntry)).all() == []


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("NaN", "is not a number"),
        ("12.34567", "more decimals than 4 decimal places"),
        ("Infinity", "is not a number"),
        ("1e400", "is not a number"),
        ("100000000", "too large"),
    ],
)
def test_markup_percent_refuses_nan_and_too_many_decimals(
    web_client, committed_db, project, raw, words
):
    url = f"/admin/invoices/new?project_id={project.id}"
    data = {
        "invoice_date": "2026-04-01",
        "line-0-amount": "100.00",
        "markup_percent": raw,
        "csrf_token": _csrf(web_client, url),
    }
    resp = web_client.post(url, data=data, follow_redirects=True)
    assert resp.status_code == 200
    assert words in resp.get_data(as_text=True)
    assert committed_db.scalars(select(Invoice)).all() == []


def test_allowed_places_still_save(web_client, committed_db, project):
    url = f"/admin/invoices/new?project_id={project.id}"
    data = {
        "invoice_date": "2026-04-01",
        "line-0-amount": "$1,250.10",
        "markup_percent": "12.3456",
        "csrf_token": _csrf(web_client, url),
    }
    assert web_client.post(url, data=data).status_code == 302
    invoice = committed_db.scalars(select(Invoice)).one()
    assert str(invoice.markup_percent) == "12.3456"
    assert str(invoice.lines[0].amount) == "1250.10"


def test_a_value_longer_than_any_form_takes_is_refused_before_any_work(
    web_client, committed_db, project
):
    url = f"/admin/bills/new?project_id={project.id}"
    data = {
        "bill_date": "2026-04-01",
        "line-0-amount": "10.00",
        "memo": "m" * (MAX_FIELD + 1),
        **_ids(committed_db, project),
        "csrf_token": _csrf(web_client, url),
    }
    resp = web_client.post(url, data=data)
    assert resp.status_code == 400
    assert f"longer than {MAX_FIELD} characters" in resp.get_data(as_text=True)
    assert "mmmmmmmmmm" not in resp.get_data(as_text=True)
    assert committed_db.scalars(select(BillLine)).all() == []


def test_a_list_search_is_bounded_in_characters_and_words(web_client, committed_db):
    assert web_client.get("/admin/vendor/?search=ace").status_code == 200
    words = " ".join(["a"] * (MAX_SEARCH_TERMS + 1))
    assert web_client.get(f"/admin/vendor/?search={words}").status_code == 400
    assert web_client.get("/admin/vendor/?search=" + "a" * 201).status_code == 400


def test_a_form_body_far_past_any_form_is_413_unread(app, runtime, committed_db):
    client = app.test_client()
    resp = client.post(
        "/signin",
        data=b"email=" + b"a" * (3 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 413


@pytest.fixture
def behind_proxy(runtime, engine, pm):
    rt = Runtime(
        settings=runtime.settings.with_overrides({"trusted_proxies": 1}), engine=engine, pm=pm
    )
    with web_app(rt) as app:
        yield app
    rt.redis.close()


def test_a_forwarded_request_is_never_this_machine_behind_a_trusted_proxy(behind_proxy: Flask):
    # What ProxyFix leaves for a client that forwarded "127.0.0.1" from another machine: the
    # header is still there, and the peer that connected is kept aside.
    forwarded = {
        "REMOTE_ADDR": "127.0.0.1",
        "werkzeug.proxy_fix.orig": {"REMOTE_ADDR": "10.1.1.1"},
    }
    with behind_proxy.test_request_context(
        "/", headers={"X-Forwarded-For": "127.0.0.1"}, environ_base=forwarded
    ):
        assert not from_this_machine()
    # Even were the header gone, the peer that connected decides.
    with behind_proxy.test_request_context("/", environ_base=forwarded):
        assert not from_this_machine()
    with behind_proxy.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert from_this_machine()


def test_metrics_refuse_a_forwarded_loopback_client_behind_a_trusted_proxy(behind_proxy):
    # /metrics answers this machine only (no METRICS_TOKEN): a client claiming 127.0.0.1
    # through the proxy, or the proxy itself forwarding anyone, is not this machine.
    client = behind_proxy.test_client()
    assert client.get("/metrics").status_code == 200
    resp = client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert resp.status_code in (401, 403, 404)


def test_a_bill_file_of_several_megabytes_uploads_through_the_console(
    web_client, committed_db, project
):
    # A text part is capped (`MAX_FORM_MEMORY_SIZE`), a file is not: Werkzeug checks that cap
    # against its read buffer too, so too low a cap refused every file past ~128 KB with 413.
    content = b"%PDF-1.4\n" + random.Random(4411).randbytes(5 * 1024 * 1024)
    url = f"/admin/bills/new?project_id={project.id}"
    data = {
        **_ids(committed_db, project),
        "bill_date": "2026-04-01",
        "line-0-amount": "10.00",
        "csrf_token": _csrf(web_client, url),
        "files": FileStorage(
            io.BytesIO(content), filename="Lumber invoice 4411.pdf", content_type="application/pdf"
        ),
    }
    # Encoded in memory: the test client would spool a body this large to a temporary file and
    # leave it open.
    boundary, body = encode_multipart(data)
    response = web_client.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    [stored] = committed_db.scalars(select(Attachment)).all()
    assert (stored.file_name, stored.size) == ("Lumber invoice 4411.pdf", len(content))
