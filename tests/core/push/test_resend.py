"""Re-sending after a fix, over HTTP to the sandbox: refused changes go under a new requestid,
unknown ones keep theirs, superseded rows are no failures, and failures group by what to fix."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from core.markers import marker
from core.models import OutboxEntry
from core.models import OutboxState
from core.push import causes
from core.push import outbox
from core.push import queueing
from core.push import records
from core.push.records import LineInput
from tests.core.push.conftest import rid
from tests.core.push.conftest import send
from tests.core.push.conftest import work

D = Decimal


def _project(project_factory, books):
    return project_factory(
        {"push_bills": True, "default_billing_cost_code": books.framing.id},
        customer_id=books.customer_id,
    )


def _set_active(books, item_id, active):
    item = books.client.read("Item", item_id)
    books.client.update(
        "Item",
        {"Id": item_id, "SyncToken": item["SyncToken"], "Active": active},
        sparse=True,
        request_id=rid(),
    )


def _bill(db, runtime, project, books, n):
    """One bill on the concrete item, sent alone (never batched: its own requestid is used)."""
    bill, entries = records.create_bill(
        db,
        runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        number=f"HL-{n}",
        lines=[LineInput(D("100.00") + n, books.concrete.id, f"Pour {n}")],
    )
    send(runtime, db, entries)
    return bill, db.get(OutboxEntry, entries[0].id)


def _qbo_bills(books):
    return books.client.query("SELECT * FROM Bill").get("Bill", [])


def test_three_bills_refused_for_an_inactive_item_are_each_in_qbo_once_after_one_group_resend(
    qbo_runtime, committed_db, books, project_factory, sandbox_control
):
    project = _project(project_factory, books)
    _set_active(books, books.concrete.qbo_item_id, False)
    rows = [_bill(committed_db, qbo_runtime, project, books, n)[1] for n in range(3)]
    assert [r.state for r in rows] == [OutboxState.FAILED] * 3
    assert {r.error_code for r in rows} == {"610"}
    assert {r.error_target for r in rows} == {f"Item:{books.concrete.qbo_item_id}"}
    assert _qbo_bills(books) == []
    # A plain retry before the fix is refused again (QBO still says 610), and nothing is made.
    again = outbox.retry(committed_db, [rows[0].id])
    send(qbo_runtime, committed_db, again)
    assert committed_db.get(OutboxEntry, rows[0].id).state == OutboxState.FAILED

    [group] = causes.failure_causes(committed_db)
    assert group.headline == "Item Concrete is inactive in QuickBooks: 3 bills"
    assert set(group.outbox_ids) == {r.id for r in rows}

    _set_active(books, books.concrete.qbo_item_id, True)
    replays = sandbox_control.counters().get("requestid_replays", 0)
    again = causes.resend_group(committed_db, group.key)
    assert len(again) == 3
    send(qbo_runtime, committed_db, again)

    for row in rows:
        done = committed_db.get(OutboxEntry, row.id)
        assert done.state == OutboxState.DONE, done.last_error
        assert outbox.request_id(done) != done.idempotency_key
    # No stored answer was replayed: each re-send was a new request.
    assert sandbox_control.counters().get("requestid_replays", 0) == replays
    bills = _qbo_bills(books)
    assert len(bills) == 3
    for row in rows:
        tag = marker(row.idempotency_key)
        assert sum(tag in b.get("PrivateNote", "") for b in bills) == 1
    assert causes.failure_causes(committed_db) == []


def test_a_resent_group_that_is_refused_again_stays_one_group_and_sends_nothing_twice(
    qbo_runtime, committed_db, books, project_factory
):
    project = _project(project_factory, books)
    _set_active(books, books.concrete.qbo_item_id, False)
    rows = [_bill(committed_db, qbo_runtime, project, books, n)[1] for n in range(2)]
    [group] = causes.failure_causes(committed_db)
    send(qbo_runtime, committed_db, causes.resend_group(committed_db, group.key))
    [after] = causes.failure_causes(committed_db)
    assert after.key == group.key
    assert [committed_db.get(OutboxEntry, r.id).request_attempt for r in rows] == [1, 1]
    assert _qbo_bills(books) == []


def test_unknown_outcome_keeps_its_requestid_and_is_found_by_marker(
    qbo_runtime, committed_db, books, project_factory, sandbox_control
):
    project = _project(project_factory, books)
    sandbox_control.faults(drop_connection=True, count=50, phase="after", paths=["bill"])
    _bill_row = _bill(committed_db, qbo_runtime, project, books, 7)[1]
    sandbox_control.clear_faults()
    row = committed_db.get(OutboxEntry, _bill_row.id)
    assert row.state == OutboxState.UNKNOWN
    again = outbox.retry(committed_db, [row.id])
    assert again == [row]
    assert row.request_attempt == 0
    assert outbox.request_id(row) == row.idempotency_key
    committed_db.commit()
    # RQ's own retry is scheduled; run it now instead of waiting for its interval.
    push = queueing.queues.queue(queueing.queues.PUSH, qbo_runtime.redis)
    for job_id in push.scheduled_job_registry.get_job_ids():
        push.scheduled_job_registry.requeue(job_id)
    work(qbo_runtime)
    committed_db.expire_all()
    row = committed_db.get(OutboxEntry, row.id)
    assert row.state == OutboxState.DONE
    assert outbox.request_id(row) == row.idempotency_key
    assert len(_qbo_bills(books)) == 1


def test_a_refused_create_superseded_by_an_edit_reads_superseded_and_is_no_failure(
    qbo_runtime, committed_db, books, project_factory
):
    project = _project(project_factory, books)
    _set_active(books, books.concrete.qbo_item_id, False)
    bill, first = _bill(committed_db, qbo_runtime, project, books, 1)
    assert first.state == OutboxState.FAILED
    _set_active(books, books.concrete.qbo_item_id, True)
    entries = records.edit_bill(committed_db, qbo_runtime.pm, bill, memo="Fixed")
    assert committed_db.get(OutboxEntry, first.id).state == OutboxState.SUPERSEDED
    send(qbo_runtime, committed_db, entries)

    listed = {r.id: r for r in outbox.list_outbox(committed_db)}
    qbo_id = records.qbo_id_of(committed_db, "bill", bill.id)
    assert qbo_id
    assert (listed[first.id].state, listed[first.id].qbo_id) == ("superseded", qbo_id)
    assert listed[entries[0].id].state == "done"
    assert causes.failure_causes(committed_db) == []
    # Retrying every failure leaves it alone: re-sending it could make a second bill.
    assert outbox.retry_failed(committed_db) == []
    assert outbox.retry(committed_db, [first.id]) == []
    assert len(_qbo_bills(books)) == 1


def test_failures_without_a_known_record_group_by_their_words(
    qbo_runtime, committed_db, books, project_factory
):
    project = _project(project_factory, books)
    rows = []
    for _n in range(2):
        _bill_, entries = records.create_bill(
            committed_db,
            qbo_runtime.pm,
            project,
            vendor=books.vendor,
            bill_date=dt.date(2026, 3, 2),
            lines=[LineInput(D("10.00"), books.concrete.id)],
        )
        rows += entries
    committed_db.flush()
    for row in rows:
        row.state = OutboxState.NEEDS_ADMIN
        row.attempts = 1
        row.last_error = "This vendor is not connected to QuickBooks."
        row.fix = "Connect it on the vendor page."
    committed_db.commit()
    [group] = causes.failure_causes(committed_db)
    assert group.headline == "This vendor is not connected to QuickBooks.: 2 bills"
    assert group.target is None
    assert causes.failure_causes(committed_db, company_ids=frozenset()) == []
    again = causes.resend_group(committed_db, group.key)
    assert {r.id for r in again} == {r.id for r in rows}
    # Nothing reached QBO for these: the re-send is a new request all the same, and the
    # marker look-up runs first (attempts > 0).
    assert all(r.request_attempt == 1 for r in again)


def test_an_unknown_group_key_is_refused_in_words(committed_db):
    import pytest

    from core.errors import NeedsAdmin

    with pytest.raises(NeedsAdmin, match="no group of failed changes"):
        causes.resend_group(committed_db, "0123456789")


def test_vendor_and_customer_targets_are_named_from_the_catalog(
    qbo_runtime, committed_db, books, project_factory
):
    project = _project(project_factory, books)
    bill, entries = records.create_bill(
        committed_db,
        qbo_runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[LineInput(D("10.00"), books.concrete.id)],
    )
    committed_db.flush()
    row = entries[0]
    row.state, row.attempts, row.error_code = OutboxState.FAILED, 1, "2500"
    row.error_target = f"Vendor:{books.vendor.qbo_vendor_id}"
    committed_db.commit()
    [group] = causes.failure_causes(committed_db)
    assert group.sentence == "Vendor Hillside Lumber Supply no longer exists in QuickBooks"
    row.error_code, row.error_target = "610", f"Customer:{books.customer_id}"
    committed_db.commit()
    [group] = causes.failure_causes(committed_db)
    assert group.sentence.startswith("Customer ")
    assert group.sentence.endswith(" is inactive in QuickBooks")
    assert committed_db.scalars(select(OutboxEntry)).all() == [row]


def test_a_plugins_expected_refusal_is_a_warning_without_traceback_and_a_bug_an_error(caplog):
    import logging

    from core.errors import NeedsAdmin
    from core.plugins import log_hook_failure

    with caplog.at_level(logging.WARNING, logger="core.plugins"):
        log_hook_failure("qbo_bills", "push_payload", NeedsAdmin("Cost code 06-200 is missing."))
        try:
            raise ValueError("boom")
        except ValueError as exc:
            log_hook_failure("qbo_bills", "push_payload", exc)
    refusal, bug = [r for r in caplog.records if r.name == "core.plugins"]
    # The secret scrubber (core.crypto) may have turned a traceback into scrubbed text already.
    assert (refusal.levelno, refusal.exc_info, refusal.exc_text) == (logging.WARNING, None, None)
    assert "Cost code 06-200 is missing." in refusal.getMessage()
    assert bug.levelno == logging.ERROR
    assert bug.exc_info is not None or "ValueError: boom" in (bug.exc_text or "")
