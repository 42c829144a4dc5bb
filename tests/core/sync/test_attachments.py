"""Bill attachments pulled from the sandbox over HTTP: read-only copies on the bill's actuals."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func
from sqlalchemy import select

from core.cli import main
from core.errors import Rejected
from core.files import store_for
from core.models import Actual
from core.models import Attachment
from core.models import AttachmentOrigin
from core.models import OutboxEntry
from core.models import RemoteMapping
from core.models import SyncRun
from core.push import records
from core.push.outbox import record_change
from core.push.records import LineInput
from core.sync.attachments import pull_bill_attachments
from core.sync.jobs import request_pull
from tests.core.push.conftest import Books
from tests.core.push.conftest import make_books
from tests.core.push.conftest import send
from tests.core.push.conftest import work

PDF = b"%PDF-1.4 lumber delivery ticket 88412"


@pytest.fixture
def books(qbo_runtime: Any, realm_id: str, company: Any, committed_db: Any) -> Books:
    return make_books(qbo_runtime, realm_id, company.id, committed_db)


def _bill_with_file(books: Books, amount: str = "480.00") -> tuple[str, str]:
    """A Bill in QBO for the project's customer with a PDF attached: (bill id, Attachable id)."""
    bill = books.client.create(
        "Bill",
        {
            "VendorRef": {"value": books.vendor.qbo_vendor_id},
            "TxnDate": "2026-03-02",
            "Line": [
                {
                    "Amount": Decimal(amount),
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
    made = books.client.upload(
        "ticket 88412.pdf",
        PDF,
        "application/pdf",
        attach_to=[("Bill", str(bill["Id"]))],
        request_id=uuid.uuid4().hex,
    )
    return str(bill["Id"]), str(made["Id"])


def _project(project_factory: Any, books: Books, **settings: Any) -> Any:
    return project_factory(
        {"pull_bill_attachments": True, **settings}, customer_id=books.customer_id
    )


def _pull(qbo_runtime: Any, company_id: int) -> int:
    """A pull through the real job on the real queue; returns its run id."""
    run_id = request_pull(qbo_runtime, company_id)
    assert run_id is not None
    work(qbo_runtime)
    return run_id


def _copies(session: Any) -> list[Attachment]:
    session.expire_all()
    return list(session.scalars(select(Attachment).order_by(Attachment.id)))


def test_file_attached_in_qbo_comes_down_read_only_on_the_bills_actual(
    qbo_runtime, committed_db, books, project_factory, company
):
    project = _project(project_factory, books)
    bill_id, attachable_id = _bill_with_file(books)
    run_id = _pull(qbo_runtime, company.id)
    [copy] = _copies(committed_db)
    actual = committed_db.scalars(select(Actual).where(Actual.qbo_id == bill_id)).one()
    assert (copy.origin, copy.read_only) == (AttachmentOrigin.QBO, True)
    assert (copy.project_id, copy.actual_id, copy.bill_id) == (project.id, actual.id, None)
    assert (copy.file_name, copy.content_type, copy.size) == (
        "ticket 88412.pdf",
        "application/pdf",
        len(PDF),
    )
    assert store_for(qbo_runtime.settings.instance_path).get(copy.storage_key) == PDF
    assert records.qbo_id_of(committed_db, "attachment", copy.id) == attachable_id
    run = committed_db.get(SyncRun, run_id)
    assert run.counts["attachments"]["added"] == 1


def test_a_second_pull_adds_nothing_and_the_copy_is_never_pushed_back(
    qbo_runtime, committed_db, books, project_factory, company
):
    _project(project_factory, books, push_bills=True, default_billing_cost_code=books.framing.id)
    _bill_with_file(books)
    _pull(qbo_runtime, company.id)
    again = pull_bill_attachments(qbo_runtime, company.id)
    assert (again.added, again.removed) == (0, 0)
    [copy] = _copies(committed_db)
    assert record_change(committed_db, copy, "create", pm=qbo_runtime.pm) is None
    assert committed_db.scalar(select(func.count()).select_from(OutboxEntry)) == 0
    with pytest.raises(Rejected, match="read-only"):
        records.remove_file(committed_db, copy)


def test_attachable_deleted_in_qbo_removes_the_local_copy(
    qbo_runtime, committed_db, books, project_factory, company
):
    _project(project_factory, books)
    _bill_id, attachable_id = _bill_with_file(books)
    _pull(qbo_runtime, company.id)
    assert len(_copies(committed_db)) == 1
    token = books.client.read("Attachable", attachable_id)["SyncToken"]
    books.client.delete("Attachable", attachable_id, token, request_id=uuid.uuid4().hex)
    _pull(qbo_runtime, company.id)
    assert _copies(committed_db) == []
    mappings = committed_db.scalars(
        select(RemoteMapping).where(RemoteMapping.entity == "Attachable")
    )
    assert list(mappings) == []


def test_no_request_is_made_when_no_project_pulls_attachments(
    qbo_runtime, committed_db, books, project_factory, company, sandbox_control
):
    project_factory({}, customer_id=books.customer_id)  # "pull bill attachments" is off
    _bill_with_file(books)
    _pull(qbo_runtime, company.id)
    before = sandbox_control.counters()
    done = pull_bill_attachments(qbo_runtime, company.id)
    assert (done.projects, done.requests) == (0, 0)
    assert sandbox_control.counters() == before
    assert _copies(committed_db) == []


def test_file_costbridge_pushed_is_not_copied_back(
    qbo_runtime, committed_db, books, project_factory, company
):
    project = _project(
        project_factory, books, push_bills=True, default_billing_cost_code=books.framing.id
    )
    bill, entries = records.create_bill(
        committed_db,
        qbo_runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[LineInput(Decimal("100.00"), books.concrete.id)],
    )
    send(qbo_runtime, committed_db, entries)
    _file, uploads = records.attach_file(
        committed_db,
        qbo_runtime.pm,
        store_for(qbo_runtime.settings.instance_path),
        bill,
        file_name="quote.pdf",
        content=PDF,
        content_type="application/pdf",
    )
    send(qbo_runtime, committed_db, uploads)
    run_id = _pull(qbo_runtime, company.id)
    qbo_id = records.qbo_id_of(committed_db, "bill", bill.id)
    pulled = committed_db.scalars(select(Actual).where(Actual.qbo_id == qbo_id)).all()
    assert [a.project_id for a in pulled] == [project.id]
    assert committed_db.get(SyncRun, run_id).counts["attachments"]["requests"] == 1
    copies = _copies(committed_db)
    assert [(c.origin, c.file_name) for c in copies] == [(AttachmentOrigin.LOCAL, "quote.pdf")]


def test_cli_sync_pull_brings_the_files_too(
    qbo_runtime, committed_db, books, project_factory, company
):
    project = _project(project_factory, books)
    _bill_with_file(books)
    result = CliRunner().invoke(
        main, ["sync", "pull", "--project", str(project.id), "--json"], obj=qbo_runtime
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["attachments"]["added"] == 1
    assert [c.file_name for c in _copies(committed_db)] == ["ticket 88412.pdf"]
