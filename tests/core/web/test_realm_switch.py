"""Switching a company to another QuickBooks company, and back, through the real web flow.

Two sandbox companies (realms) over HTTP: the company is on realm A with a linked project, a
pulled bill with its file and a waiting push; a sign-in to realm B is refused until the switch
is confirmed; the confirmed switch leaves nothing of A that could be taken for B; a switch back
restores A's links, and the next pull brings back its actuals and its file.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from core.files import store_for
from core.models import Actual
from core.models import Attachment
from core.models import AttachmentOrigin
from core.models import Bill
from core.models import Company
from core.models import CostCode
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import PendingRevocation
from core.models import Project
from core.models import RemoteMapping
from core.models import SyncCursor
from core.models import TrackingCategory
from core.models import Vendor
from core.realm_switch import SWITCH_CANCELLED
from core.runtime import Runtime
from core.sync.attachments import pull_attachments
from core.sync.jobs import request_pull
from costbridge_testing.console import add_user
from costbridge_testing.console import press_connect
from costbridge_testing.console import sign_in
from costbridge_testing.sandbox import Control
from costbridge_testing.services import web_app
from tests.core.push.conftest import Books
from tests.core.push.conftest import make_books
from tests.core.push.conftest import work
from tests.factories import make_bill

PDF = b"%PDF-1.4 delivery ticket 5521"


@pytest.fixture
def books(qbo_runtime: Runtime, realm_id: str, company: Company, committed_db: Any) -> Books:
    return make_books(qbo_runtime, realm_id, company.id, committed_db)


@pytest.fixture
def browser(qbo_runtime: Runtime, company: Company) -> Iterator[FlaskClient]:
    admin = add_user(qbo_runtime.sessions, "switch-admin@example.com")
    with web_app(qbo_runtime) as app:
        yield sign_in(app.test_client(), qbo_runtime.sessions, admin)


def other_realm(control: Control) -> str:
    hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id, not a secret
    control.seed("empty", realm_id=hint)
    return hint


def sign_in_to(browser: FlaskClient, company_id: int, realm: str, *, switch: bool = False) -> Any:
    """Press the button, consent at the sandbox for `realm`, come back: the callback's answer."""
    started = press_connect(browser, company_id, switch=switch)
    assert started.status_code == 302
    resp = requests.get(
        started.headers["Location"] + f"&realm_hint={realm}", allow_redirects=False, timeout=10
    )
    assert resp.status_code == 302
    back = urlsplit(resp.headers["Location"])
    return browser.get(f"{back.path}?{back.query}")


def bill_with_file(books: Books) -> str:
    bill = books.client.create(
        "Bill",
        {
            "VendorRef": {"value": books.vendor.qbo_vendor_id},
            "TxnDate": "2026-03-02",
            "Line": [
                {
                    "Amount": "480.00",
                    "DetailType": "ItemBasedExpenseLineDetail",
                    "ItemBasedExpenseLineDetail": {
                        "ItemRef": {"value": books.concrete.qbo_item_id},
                        "CustomerRef": {"value": books.customer_id},
                    },
                }
            ],
        },
        request_id=uuid.uuid4().hex,
    )
    books.client.upload(
        "ticket 5521.pdf",
        PDF,
        "application/pdf",
        attach_to=[("Bill", str(bill["Id"]))],
        request_id=uuid.uuid4().hex,
    )
    return str(bill["Id"])


def pull(rt: Runtime, company_id: int) -> None:
    assert request_pull(rt, company_id) is not None
    work(rt)


def waiting_push(db: Any, company_id: int) -> OutboxEntry:
    entry = OutboxEntry(
        company_id=company_id,
        entity="Bill",
        local_kind="bill",
        local_id=1,
        operation="create",
        idempotency_key=str(uuid.uuid4()),
        state=OutboxState.BLOCKED,
    )
    db.add(entry)
    db.commit()
    return entry


def test_another_realm_is_refused_then_switched_with_consent_and_switched_back(
    browser: FlaskClient,
    qbo_runtime: Runtime,
    company: Company,
    realm_id: str,
    books: Books,
    project_factory: Any,
    committed_db: Any,
    sandbox_control: Control,
) -> None:
    project = project_factory({"pull_bill_attachments": True}, customer_id=books.customer_id)
    bill_id = bill_with_file(books)
    pull(qbo_runtime, company.id)
    db = committed_db
    assert db.scalars(select(Actual).where(Actual.qbo_id == bill_id)).all()
    [copy] = db.scalars(select(Attachment)).all()
    file_name = copy.file_name
    push = waiting_push(db, company.id)
    realm_b = other_realm(sandbox_control)
    db.add(
        TrackingCategory(
            company_id=company.id, kind="location", qbo_id="1", name="North", full_name="North"
        )
    )
    chosen = make_bill(db, db.get(Project, project.id))
    chosen.qbo_location_id = "1"
    chosen.lines[0].qbo_class_id = "3"
    db.commit()

    # 1. Signing in to another QuickBooks company from the Connect button: refused, and the
    # code is never exchanged.
    exchanges = sandbox_control.oauth()["token_calls"].get("authorization_code", 0)
    refused = sign_in_to(browser, company.id, realm_b)
    assert refused.status_code == 409
    assert "Switch this company to another QuickBooks company" in refused.get_data(as_text=True)
    assert sandbox_control.oauth()["token_calls"].get("authorization_code", 0) == exchanges
    db.expire_all()
    assert db.get(Company, company.id).realm_id == realm_id
    assert db.get(Project, project.id).qbo_customer_id == books.customer_id

    # 2. The switch page says what happens, with the company's counts.
    page = browser.get(f"/qbo/switch/{company.id}").get_data(as_text=True)
    assert "Projects: 1 linked" in page
    assert "Actuals: 1 pulled" in page
    assert "Files: 1 copied from QuickBooks" in page
    assert "Waiting pushes: 1 not yet sent" in page
    company_page = browser.get(f"/qbo/company/{company.id}").get_data(as_text=True)
    assert f"/qbo/switch/{company.id}" in company_page

    # 3. Confirmed: connected to B, and nothing of A can be taken for B.
    done = sign_in_to(browser, company.id, realm_b, switch=True)
    assert done.status_code == 302
    assert done.headers["Location"].endswith("m=connected")
    db.expire_all()
    assert db.get(Company, company.id).realm_id == realm_b
    linked = db.get(Project, project.id)
    assert (linked.qbo_customer_id, linked.qbo_customer_name) == (None, None)
    assert (
        db.scalars(select(CostCode.qbo_item_id).where(CostCode.qbo_item_id.is_not(None))).all()
        == []
    )
    assert (
        db.scalars(select(Vendor.qbo_vendor_id).where(Vendor.qbo_vendor_id.is_not(None))).all()
        == []
    )
    assert db.scalars(select(Actual).where(Actual.realm_id == realm_id)).all() == []
    assert db.scalars(select(Attachment)).all() == []
    assert db.scalars(select(RemoteMapping).where(RemoteMapping.entity == "Attachable")).all() == []
    assert db.scalars(select(SyncCursor).where(SyncCursor.realm_id == realm_id)).all() == []
    # Classes and locations of A: neither the copy nor the ones a bill chose remain.
    assert db.scalars(select(TrackingCategory)).all() == []
    bill = db.get(Bill, chosen.id)
    assert (bill.qbo_location_id, bill.lines[0].qbo_class_id) == (None, None)
    cancelled = db.get(OutboxEntry, push.id)
    assert (cancelled.state, cancelled.last_error) == (OutboxState.CANCELLED, SWITCH_CANCELLED)
    [revoke] = db.scalars(select(PendingRevocation)).all()
    assert revoke.realm_id == realm_id
    # A pull of B brings nothing of A back and routes nothing to the unlinked project.
    pull(qbo_runtime, company.id)
    db.expire_all()
    assert db.scalars(select(Actual).where(Actual.project_id == project.id)).all() == []

    # 4. A plain reconnect to A now is refused too: B is the company's realm.
    assert sign_in_to(browser, company.id, realm_id).status_code == 409

    # 5. Switching back restores A's links, and the next pull its actual and its file.
    back = sign_in_to(browser, company.id, realm_id, switch=True)
    assert back.headers["Location"].endswith("m=connected")
    db.expire_all()
    assert db.get(Company, company.id).realm_id == realm_id
    assert db.get(Project, project.id).qbo_customer_id == books.customer_id
    assert db.get(CostCode, books.concrete.id).qbo_item_id == books.concrete.qbo_item_id
    assert db.get(Vendor, books.vendor.id).qbo_vendor_id == books.vendor.qbo_vendor_id
    assert (
        db.scalars(select(PendingRevocation).where(PendingRevocation.realm_id == realm_id)).all()
        == []
    )
    pull(qbo_runtime, company.id)
    db.expire_all()
    [actual] = db.scalars(select(Actual).where(Actual.qbo_id == bill_id)).all()
    assert actual.project_id == project.id
    [again] = db.scalars(select(Attachment)).all()
    assert again.origin == AttachmentOrigin.QBO
    assert again.actual_id == actual.id
    assert again.file_name == file_name
    assert store_for(qbo_runtime.settings.instance_path).get(again.storage_key) == PDF


def test_a_mapping_left_without_its_copy_downloads_the_file_again(
    qbo_runtime: Runtime,
    company: Company,
    books: Books,
    project_factory: Any,
    committed_db: Any,
) -> None:
    """Rows orphaned by earlier versions (copy removed, mapping kept) heal on the next pull."""
    project_factory({"pull_bill_attachments": True}, customer_id=books.customer_id)
    bill_with_file(books)
    pull(qbo_runtime, company.id)
    [copy] = committed_db.scalars(select(Attachment)).all()
    committed_db.delete(copy)
    committed_db.commit()
    assert committed_db.scalars(
        select(RemoteMapping).where(RemoteMapping.entity == "Attachable")
    ).all()

    report = pull_attachments(qbo_runtime, company.id)
    assert report.added == 1
    committed_db.expire_all()
    [again] = committed_db.scalars(select(Attachment)).all()
    [mapping] = committed_db.scalars(
        select(RemoteMapping).where(RemoteMapping.entity == "Attachable")
    ).all()
    assert mapping.local_id == again.id


def test_get_on_connect_changes_nothing(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company, committed_db: Any
) -> None:
    """A link or image on another site cannot start a sign-in: GET is not allowed."""
    resp = browser.get(f"/qbo/connect/{company.id}")
    assert resp.status_code == 405
    with browser.session_transaction() as flask_session:
        assert "qbo_oauth" not in flask_session


def test_a_disconnected_company_page_does_not_say_connected_since(
    browser: FlaskClient, qbo_runtime: Runtime, company: Company, realm_id: str
) -> None:
    page = browser.get(f"/qbo/company/{company.id}").get_data(as_text=True)
    assert "Connected since" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    resp = browser.post(f"/qbo/disconnect/{company.id}", data={"csrf_token": token.group(1)})
    assert resp.status_code == 302
    after = browser.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Not connected" in after
    assert "Connected since" not in after
