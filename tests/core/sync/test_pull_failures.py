"""A record no plugin can map is never reported as success, and is never skipped for good.

The pull names it on a `partial` run (or a `failed` one when nothing could be applied), keeps
the other records' lines, and holds its entity's cursor so the next pull reads it again: once
the mapper is fixed, its lines arrive with nothing changed in QuickBooks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from freezegun import freeze_time
from sqlalchemy import select

from core import hookimpl
from core.cli import main
from core.contracts import PluginInfo
from core.errors import NeedsAdmin
from core.models import Actual
from core.models import Company
from core.models import RunState
from core.models import SyncCursor
from core.models import SyncRun
from core.plugins import make_plugin_manager
from core.push import batch
from core.qbo import client_for
from core.runtime import Runtime
from core.sync import engine
from core.sync.engine import pull_company
from core.sync.jobs import pull_job
from core.sync.jobs import request_pull
from plugins.qbo_bills import pull as bills_pull
from tests.core.sync.test_pull_engine import _clean
from tests.core.sync.test_pull_engine import _connect_demo
from tests.core.sync.test_pull_engine import _expense_lines
from tests.core.sync.test_pull_engine import _write
from tests.core.sync.test_pull_engine import raw_state

#: The built-in plugins that map pulled records (each owns one or more entities).
MAPPERS = (
    "qbo_bills",
    "qbo_expenses",
    "qbo_journal_entries",
    "qbo_time",
    "qbo_vendor_credits",
)


class _BillsFailingOn:
    """Owns Bill like qbo_bills, but its mapper raises on the bills it is given."""

    def __init__(self, *bad_ids: str) -> None:
        self.bad_ids = set(bad_ids)

    @hookimpl
    def plugin_info(self) -> PluginInfo:
        return PluginInfo(name="shaky_bills", label="Shaky bills", owns=("Bill",))

    @hookimpl
    def actual_lines(self, record: Any, lookups: Any) -> Any:
        if record.id in self.bad_ids:
            raise KeyError("ItemBasedExpenseLineDetail")
        return bills_pull.lines(record, lookups)


class _ReadsNothing:
    """Owns every pulled entity and can map none of them."""

    @hookimpl
    def plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name="reads_nothing",
            label="Reads nothing",
            owns=("Bill", "Purchase", "TimeActivity", "VendorCredit"),
        )

    @hookimpl
    def actual_lines(self, record: Any, lookups: Any) -> Any:
        raise ValueError(f"cannot read {record.entity}")


@pytest.fixture
def demo(qbo_runtime: Runtime, company: Company, sandbox_control: Any) -> dict[str, Any]:
    """The company connected to a fresh, quarter-size demo construction company."""
    return _connect_demo(qbo_runtime, company, sandbox_control, 0.25)


def _failing_on(*bad_ids: str) -> Any:
    return make_plugin_manager(
        blocked=["qbo_bills"], extra=[("shaky_bills", _BillsFailingOn(*bad_ids))]
    )


def _bill_with_a_number(raw: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in raw["Bill"][2:] if b.get("DocNumber") and _expense_lines(b))


def _bill_lines(rt: Runtime, qbo_id: str) -> dict[str, Decimal]:
    with rt.sessions() as session:
        return {
            line: amount
            for line, amount in session.execute(
                select(Actual.qbo_line_id, Actual.amount).where(
                    Actual.qbo_entity == "Bill", Actual.qbo_id == qbo_id
                )
            )
        }


def _bill_ids(rt: Runtime) -> set[str]:
    with rt.sessions() as session:
        return set(session.scalars(select(Actual.qbo_id).where(Actual.qbo_entity == "Bill")))


def _run(rt: Runtime, run_id: int | None) -> SyncRun:
    with rt.sessions() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        return run


def test_a_bill_that_fails_to_map_leaves_the_first_sync_partial_and_named(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    raw = raw_state(qbo_sandbox.url, demo["realm"])
    bad = _bill_with_a_number(raw)
    qbo_runtime.pm = _failing_on(bad["Id"])

    report = pull_company(qbo_runtime, demo["company_id"])

    assert report.state == RunState.PARTIAL
    assert [(p.entity, p.id, p.doc_number) for p in report.problems] == [
        ("Bill", bad["Id"], bad["DocNumber"])
    ]
    run = _run(qbo_runtime, report.run_id)
    assert run.state == RunState.PARTIAL
    named = f"bill {bad['Id']} (no. {bad['DocNumber']})"
    assert named in (run.message or "")
    assert "could not be brought in" in (run.message or "")
    assert "reads it again on every sync" in (run.fix or "")
    assert f"QuickBooks {named} was not brought in: the Shaky bills plugin could not read it." in (
        run.detail or ""
    )
    assert "KeyError" in (run.detail or "")  # support's detail
    assert run.counts["problems"] == 1
    # The other bills (and every other entity) came in; the failed bill has no lines.
    with_lines = {b["Id"] for b in raw["Bill"] if _expense_lines(b)}
    assert _bill_ids(qbo_runtime) == with_lines - {bad["Id"]}
    assert report.tally.added > 1000


def test_the_failed_bill_is_read_again_until_its_mapper_is_fixed(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    raw = raw_state(qbo_sandbox.url, demo["realm"])
    bad = _bill_with_a_number(raw)
    qbo_runtime.pm = _failing_on(bad["Id"])
    first = pull_company(qbo_runtime, demo["company_id"])
    assert first.state == RunState.PARTIAL

    # Still broken: the next pull reads it again and says so again (not a quiet success).
    again = pull_company(qbo_runtime, demo["company_id"])
    assert again.state == RunState.PARTIAL, (again.modes, again.records)
    assert [p.id for p in again.problems] == [bad["Id"]]
    assert _bill_lines(qbo_runtime, bad["Id"]) == {}

    # Fixed (the built-in plugin again): the bill's lines arrive, nothing changed in QuickBooks.
    qbo_runtime.pm = make_plugin_manager()
    fixed = pull_company(qbo_runtime, demo["company_id"])
    assert fixed.state == RunState.SUCCEEDED, fixed.message
    assert fixed.problems == []
    want = {lid: amount for lid, _detail, amount in _expense_lines(bad)}
    assert _bill_lines(qbo_runtime, bad["Id"]) == want
    after = next(
        b for b in raw_state(qbo_sandbox.url, demo["realm"])["Bill"] if b["Id"] == bad["Id"]
    )
    assert after["SyncToken"] == bad["SyncToken"]
    # And with nothing left to re-read, the cursors move on to the pull's start.
    with qbo_runtime.sessions() as session:
        positions = {c.entity: c.position for c in session.scalars(select(SyncCursor))}
    assert len(set(positions.values())) == 1


def _raise_first_line(client: Any, bill: dict[str, Any], by: str) -> tuple[str, Decimal]:
    """Edit the bill in QuickBooks: its first line costs `by` more. Returns (line id, amount)."""
    line = bill["Line"][0]
    amount = Decimal(str(line["Amount"])) + Decimal(by)
    detail = line[line["DetailType"]]
    if "UnitPrice" in detail:
        detail["Qty"], detail["UnitPrice"] = 1, amount
    line["Amount"] = amount
    _write(client, "Bill", _clean(bill))
    return str(line["Id"]), amount.quantize(Decimal("0.01"))


def test_a_bill_edited_into_a_shape_its_mapper_cannot_read_is_read_again_by_cdc(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    pull_company(qbo_runtime, demo["company_id"])  # the first sync: every bill in
    raw = raw_state(qbo_sandbox.url, demo["realm"])
    bad = _bill_with_a_number(raw)
    good = next(b for b in raw["Bill"] if b["Id"] != bad["Id"] and _expense_lines(b))
    before = _bill_lines(qbo_runtime, bad["Id"])
    client = client_for(qbo_runtime, demo["realm"])
    bad_line, bad_amount = _raise_first_line(client, bad, "25.50")
    good_line, good_amount = _raise_first_line(client, good, "7.25")

    # The pulls run some minutes after the edits, past the cursors' overlap: only a cursor held
    # before the bad bill's LastUpdatedTime brings it back.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    qbo_runtime.pm = _failing_on(bad["Id"])
    with freeze_time(later, tick=True):
        broken = pull_company(qbo_runtime, demo["company_id"])
    assert broken.modes["Bill"] == "cdc"
    assert broken.state == RunState.PARTIAL, broken.message
    assert [p.id for p in broken.problems] == [bad["Id"]]
    assert _bill_lines(qbo_runtime, good["Id"])[good_line] == good_amount
    assert _bill_lines(qbo_runtime, bad["Id"]) == before  # its earlier lines are kept

    qbo_runtime.pm = make_plugin_manager()
    with freeze_time(later + dt.timedelta(minutes=5), tick=True):
        fixed = pull_company(qbo_runtime, demo["company_id"])
    assert fixed.modes["Bill"] == "cdc"
    assert fixed.state == RunState.SUCCEEDED, fixed.message
    assert _bill_lines(qbo_runtime, bad["Id"])[bad_line] == bad_amount


def test_a_bill_that_fails_in_a_backfill_is_read_again_by_the_next_pull(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    pull_company(qbo_runtime, demo["company_id"])  # the first sync: cursors in place
    bad = _bill_with_a_number(raw_state(qbo_sandbox.url, demo["realm"]))
    with qbo_runtime.sessions() as session:
        session.execute(Actual.__table__.delete().where(Actual.qbo_entity == "Bill"))
        session.commit()
    since = dt.date.fromisoformat(bad["TxnDate"])
    qbo_runtime.pm = _failing_on(bad["Id"])
    backfill = pull_company(qbo_runtime, demo["company_id"], since=since)
    assert backfill.state == RunState.PARTIAL
    assert [p.id for p in backfill.problems] == [bad["Id"]]
    assert _bill_lines(qbo_runtime, bad["Id"]) == {}

    qbo_runtime.pm = make_plugin_manager()
    fixed = pull_company(qbo_runtime, demo["company_id"])  # an ordinary pull, no date given
    assert fixed.state == RunState.SUCCEEDED, fixed.message
    want = {lid: amount for lid, _detail, amount in _expense_lines(bad)}
    assert _bill_lines(qbo_runtime, bad["Id"]) == want


class _BillsNeedingACode:
    """Owns Bill, and refuses one bill in an admin's words (as a plugin may)."""

    def __init__(self, bad_id: str) -> None:
        self.bad_id = bad_id

    @hookimpl
    def plugin_info(self) -> PluginInfo:
        return PluginInfo(name="strict_bills", label="Strict bills", owns=("Bill",))

    @hookimpl
    def actual_lines(self, record: Any, lookups: Any) -> Any:
        if record.id == self.bad_id:
            raise NeedsAdmin(
                "This bill has a line with no cost code.",
                fix="Open Project settings and choose a Default billing cost code.",
            )
        return bills_pull.lines(record, lookups)


def test_a_plugin_that_says_why_is_quoted_on_the_run(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    bad = _bill_with_a_number(raw_state(qbo_sandbox.url, demo["realm"]))
    qbo_runtime.pm = make_plugin_manager(
        blocked=["qbo_bills"], extra=[("strict_bills", _BillsNeedingACode(bad["Id"]))]
    )
    report = pull_company(qbo_runtime, demo["company_id"])
    assert report.state == RunState.PARTIAL
    [problem] = report.problems
    assert problem.message == (
        f"QuickBooks bill {bad['Id']} (no. {bad['DocNumber']}) was not brought in: "
        "This bill has a line with no cost code."
    )
    assert report.fix == "Open Project settings and choose a Default billing cost code."


def test_a_pull_that_can_apply_no_record_fails(qbo_runtime: Runtime, demo: dict[str, Any]) -> None:
    qbo_runtime.pm = make_plugin_manager(
        blocked=list(MAPPERS), extra=[("reads_nothing", _ReadsNothing())]
    )
    report = pull_company(qbo_runtime, demo["company_id"])
    assert report.state == RunState.FAILED
    assert len(report.problems) == report.records > 0
    run = _run(qbo_runtime, report.run_id)
    assert run.state == RunState.FAILED
    assert (run.message or "").startswith(f"None of the {report.records} record(s) read")
    assert "and " in (run.message or "")  # the first few are named, the rest counted


def test_sync_pull_json_says_partial_names_the_record_and_exits_3(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    bad = _bill_with_a_number(raw_state(qbo_sandbox.url, demo["realm"]))
    qbo_runtime.pm = _failing_on(bad["Id"])
    result = CliRunner().invoke(
        main, ["sync", "pull", "--company", str(demo["company_id"]), "--json"], obj=qbo_runtime
    )
    assert result.exit_code == 3, result.output
    body = json.loads(result.stdout)
    assert body["state"] == "partial"
    assert body["counts"]["problems"] == 1
    [problem] = body["problems"]
    assert (problem["entity"], problem["id"], problem["doc_number"]) == (
        "Bill",
        bad["Id"],
        bad["DocNumber"],
    )
    assert problem["message"].startswith(f"QuickBooks bill {bad['Id']} (no. {bad['DocNumber']})")


def test_sync_pull_in_words_names_the_record_on_stderr_and_exits_3(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    bad = _bill_with_a_number(raw_state(qbo_sandbox.url, demo["realm"]))
    qbo_runtime.pm = _failing_on(bad["Id"])
    result = CliRunner().invoke(
        main, ["sync", "pull", "--company", str(demo["company_id"])], obj=qbo_runtime
    )
    assert result.exit_code == 3, result.output
    assert "1 record(s) could not be brought in" in result.stdout
    assert f"!! QuickBooks bill {bad['Id']} (no. {bad['DocNumber']}) was not brought in" in (
        result.stderr
    )
    assert "Traceback" not in result.output


def test_the_pull_job_still_brings_the_files_of_a_partial_pull(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    bad = _bill_with_a_number(raw_state(qbo_sandbox.url, demo["realm"]))
    qbo_runtime.pm = _failing_on(bad["Id"])
    run_id = request_pull(qbo_runtime, demo["company_id"])
    assert run_id is not None
    body = pull_job(demo["company_id"], run_id)
    assert body["state"] == "partial"
    assert [p["id"] for p in body["problems"]] == [bad["Id"]]
    assert "attachments" in body  # the bills that came in get their files, as after a success
    assert _run(qbo_runtime, run_id).state == RunState.PARTIAL


def test_a_runtime_without_a_redis_client_is_logged_by_the_pull(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Runtime(
        settings=runtime.settings.with_overrides({"redis_url": "nosuch://127.0.0.1:1/0"}),
        engine=runtime.engine,
        pm=runtime.pm,
    )
    with caplog.at_level(logging.WARNING, logger="core.sync.engine"):
        assert engine._redis(broken) is None
    [line] = [r for r in caplog.records if r.name == "core.sync.engine"]
    assert "without the book-close cache" in line.getMessage()
    assert "ValueError" in line.getMessage()


def test_an_unreadable_batch_budget_is_logged_and_the_lead_still_goes(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    down = Runtime(
        settings=runtime.settings.with_overrides({"redis_url": "redis://127.0.0.1:1/0"}),
        engine=runtime.engine,
        pm=runtime.pm,
    )
    try:
        with caplog.at_level(logging.WARNING, logger="core.push.batch"):
            assert batch.batch_room(down, "9130357766900001") is True
    finally:
        down.redis.close()
    [line] = [r for r in caplog.records if r.name == "core.push.batch"]
    assert "batch budget of realm 9130357766900001 not read" in line.getMessage()
    assert "ConnectionError" in line.getMessage()
