"""Issue 20, item 3: unknown outcomes resolved by look-ups Intuit answers.

Each test loses the answer to a create after QBO committed it, then has the sandbox forget
requestids (so only our look-up stands between the retry and a duplicate) and cut query pages
to one row (so the record is found only by reading every page). The sandbox is as strict
as Intuit: a WHERE on PrivateNote, Description or Note would be Fault 4001.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.files import store_for
from core.jobs import push_jobs
from core.jobs import queues
from core.models import OutboxEntry
from core.models import OutboxState
from core.push import records
from core.push.outbox import marker
from core.push.records import LineInput
from tests.core.push.conftest import send
from tests.core.push.conftest import work

D = Decimal
DAY = dt.date(2026, 3, 2)
WRITES = ["bill", "invoice", "timeactivity", "upload", "batch"]


def _lose_answers(control) -> None:
    # requestids still honoured here: the client's own retries of the lost call replay.
    control.faults(drop_connection=True, count=50, phase="after", paths=WRITES)


def _recover(runtime, control) -> None:
    """Faults off, requestids forgotten, pages cut to one row; the row goes again."""
    control.clear_faults()
    control.honour_request_ids(False)
    control.cap_query_pages(1)
    push_jobs.sweep_outbox()
    push = queues.queue(queues.PUSH, runtime.redis)
    for job_id in push.scheduled_job_registry.get_job_ids():
        push.scheduled_job_registry.requeue(job_id)
    work(runtime)


def _unknown_then_done(runtime, db, control, entries) -> OutboxEntry:
    _lose_answers(control)
    send(runtime, db, entries)
    assert db.get(OutboxEntry, entries[0].id).state == OutboxState.UNKNOWN
    _recover(runtime, control)
    control.cap_query_pages(1000)
    db.expire_all()
    row = db.get(OutboxEntry, entries[0].id)
    assert row.state == OutboxState.DONE, row.last_error
    return row


def _no_refused_query(control, realm: str) -> list[str]:
    logged = control.queries(realm)
    assert logged, "the look-up queried nothing"
    assert [q for q in logged if q["refused"]] == []
    return [q["query"] for q in logged]


def _with_marker(rows, field, row) -> list[str]:
    return [r["Id"] for r in rows if marker(row.idempotency_key) in str(r.get(field, ""))]


def _bill(runtime, db, books, project, number=None):
    return records.create_bill(
        db,
        runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=DAY,
        number=number,
        lines=[LineInput(D("100.00"), books.concrete.id)],
    )


def test_lost_bill_is_found_by_vendor_and_date_on_the_last_page(
    qbo_runtime, committed_db, books, project_factory, sandbox_control
):
    project = project_factory(
        {"push_bills": True, "default_billing_cost_code": books.framing.id},
        customer_id=books.customer_id,
    )
    for _ in range(3):  # same vendor, same day: candidates the look-up must read past
        send(qbo_runtime, committed_db, _bill(qbo_runtime, committed_db, books, project)[1])
    _bill_row, entries = _bill(qbo_runtime, committed_db, books, project)
    row = _unknown_then_done(qbo_runtime, committed_db, sandbox_control, entries)
    bills = books.client.query("SELECT * FROM Bill").get("Bill", [])
    assert len(bills) == 4
    assert len(_with_marker(bills, "PrivateNote", row)) == 1
    sent = _no_refused_query(sandbox_control, books.client.realm_id)
    assert any(
        f"FROM Bill WHERE VendorRef = '{books.vendor.qbo_vendor_id}' AND TxnDate = '2026-03-02'"
        in q
        for q in sent
    )
    assert not [q for q in sent if "PrivateNote" in q]


def test_lost_bill_with_a_number_is_narrowed_by_its_number(
    qbo_runtime, committed_db, books, project_factory, sandbox_control
):
    project = project_factory(
        {"push_bills": True, "default_billing_cost_code": books.framing.id},
        customer_id=books.customer_id,
    )
    _bill_row, entries = _bill(qbo_runtime, committed_db, books, project, number="HL-7")
    row = _unknown_then_done(qbo_runtime, committed_db, sandbox_control, entries)
    bills = books.client.query("SELECT * FROM Bill").get("Bill", [])
    assert len(_with_marker(bills, "PrivateNote", row)) == len(bills) == 1
    sent = _no_refused_query(sandbox_control, books.client.realm_id)
    assert any("AND DocNumber = 'HL-7'" in q for q in sent)


def test_lost_invoice_is_found_by_customer_and_date(
    qbo_runtime, committed_db, books, project_factory, sandbox_control
):
    project = project_factory(
        {"send_invoices": True, "default_invoice_code": books.framing.id},
        customer_id=books.customer_id,
    )

    def invoice():
        return records.create_invoice(
            committed_db,
            qbo_runtime.pm,
            project,
            invoice_date=DAY,
            lines=[LineInput(D("250.00"), books.concrete.id)],
        )[1]

    for _ in range(2):
        send(qbo_runtime, committed_db, invoice())
    row = _unknown_then_done(qbo_runtime, committed_db, sandbox_control, invoice())
    invoices = books.client.query("SELECT * FROM Invoice").get("Invoice", [])
    assert len(invoices) == 3
    assert len(_with_marker(invoices, "PrivateNote", row)) == 1
    sent = _no_refused_query(sandbox_control, books.client.realm_id)
    assert any(
        f"FROM Invoice WHERE CustomerRef = '{books.customer_id}' AND TxnDate = '2026-03-02'" in q
        for q in sent
    )


def test_lost_time_entry_is_found_by_date_and_employee(
    qbo_runtime, committed_db, books, project_factory, sandbox_control
):
    project = project_factory({"time_tracking": True}, customer_id=books.customer_id)

    def entry():
        return records.add_time_entry(
            committed_db,
            qbo_runtime.pm,
            project,
            employee=books.employee,
            work_date=DAY,
            hours=D("2"),
        )[1]

    for _ in range(2):
        send(qbo_runtime, committed_db, entry())
    row = _unknown_then_done(qbo_runtime, committed_db, sandbox_control, entry())
    times = books.client.query("SELECT * FROM TimeActivity").get("TimeActivity", [])
    assert len(times) == 3
    assert len(_with_marker(times, "Description", row)) == 1
    sent = _no_refused_query(sandbox_control, books.client.realm_id)
    assert any(
        "FROM TimeActivity WHERE TxnDate = '2026-03-02' AND EmployeeRef = "
        f"'{books.employee.qbo_employee_id}'" in q
        for q in sent
    )


def test_lost_file_is_found_among_the_bills_attachables(
    qbo_runtime, committed_db, books, project_factory, sandbox_control
):
    project = project_factory(
        {"push_bills": True, "default_billing_cost_code": books.framing.id},
        customer_id=books.customer_id,
    )
    bill, entries = _bill(qbo_runtime, committed_db, books, project)
    send(qbo_runtime, committed_db, entries)
    qbo_id = records.qbo_id_of(committed_db, "bill", bill.id)
    store = store_for(qbo_runtime.settings.instance_path)

    def attach(n: int):
        return records.attach_file(
            committed_db,
            qbo_runtime.pm,
            store,
            bill,
            file_name=f"receipt-{n}.pdf",
            content=b"%PDF-1.4 costbridge",
            content_type="application/pdf",
        )[1]

    send(qbo_runtime, committed_db, attach(1))
    row = _unknown_then_done(qbo_runtime, committed_db, sandbox_control, attach(2))
    files = books.client.query(
        f"SELECT * FROM Attachable WHERE AttachableRef.EntityRef.value = '{qbo_id}'"  # noqa: S608
    ).get("Attachable", [])
    assert sorted(f["FileName"] for f in files) == ["receipt-1.pdf", "receipt-2.pdf"]
    assert len(_with_marker(files, "Note", row)) == 1
    _no_refused_query(sandbox_control, books.client.realm_id)
