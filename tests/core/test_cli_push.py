"""The push commands (catalog imports, bills, invoices, time, outbox) against the sandbox."""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal

import pytest
from click.testing import CliRunner

from core.cli import main
from core.cli.common import parse_decimal
from core.errors import CostbridgeError
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Vendor
from tests.core.push.conftest import make_books
from tests.core.push.conftest import rid
from tests.core.push.conftest import work

D = Decimal


def run(rt, *args: str):
    """Invoke `costbridge ARGS` on the test runtime (passed as click's obj)."""
    return CliRunner().invoke(main, list(args), obj=rt)


def ok_json(rt, *args: str):
    result = run(rt, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(rt, *args: str) -> str:
    """The one line a refused command prints (exit 1, no traceback)."""
    result = run(rt, *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr.strip()


@pytest.fixture
def books(qbo_runtime, realm_id, company, committed_db):
    return make_books(qbo_runtime, realm_id, company.id, committed_db)


def _project(project_factory, books, **settings) -> str:
    project = project_factory(
        {"default_billing_cost_code": books.framing.id, **settings}, customer_id=books.customer_id
    )
    return str(project.id)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1250.10", D("1250.10")),
        ("1,250.1", D("1250.1")),
        (" 7 ", D("7")),
        ("0.05", D("0.05")),
        ("$12", D("12")),
    ],
)
def test_amounts_are_read_exactly(raw, expected):
    assert parse_decimal(raw, "The amount") == expected


@pytest.mark.parametrize(
    "raw", ["12.345", "1e3", "NaN", "-5", "12.5.1", "1,25", "", "Infinity", "(5)"]
)
def test_amounts_that_are_not_cents_are_refused(raw):
    with pytest.raises(CostbridgeError) as caught:
        parse_decimal(raw, "The amount")
    assert f"“{raw}”" in caught.value.message


def test_imports_connect_names_with_apostrophes_and_accents_and_flag_unusable_items(
    qbo_runtime, company, books, project_factory
):
    books.client.create("Vendor", {"DisplayName": "O'Brien Électrique"}, request_id=rid())
    books.client.create(
        "Employee",
        {"GivenName": "Zoë", "FamilyName": "D'Angelo", "DisplayName": "Zoë D'Angelo"},
        request_id=rid(),
    )
    company_id = str(company.id)
    assert ok_json(qbo_runtime, "vendors", "import", "--company", company_id) == {
        "added": 1,
        "connected": 0,
        "updated": 1,
        "flagged": {},
    }
    assert ok_json(qbo_runtime, "employees", "import", "--company", company_id)["added"] == 1
    result = run(qbo_runtime, "cost-codes", "import", "--company", company_id)
    assert result.exit_code == 0, result.output
    assert "0 added, 0 connected by name, 4 updated" in result.stdout
    assert "!! cost code Consulting: turn on “I purchase this product/service”" in result.stderr

    codes = {
        c["code"]: c for c in ok_json(qbo_runtime, "cost-codes", "list", "--company", company_id)
    }
    assert codes["Framing"]["problem"] is None
    assert codes["Framing"]["qbo_item_id"] == books.framing.qbo_item_id
    assert codes["Framing"]["expense_account"]
    assert (codes["Consulting"]["sells"], codes["Consulting"]["purchases"]) == (True, False)
    assert "I purchase" in codes["Consulting"]["problem"]
    listed = run(qbo_runtime, "cost-codes", "list", "--company", company_id).stdout
    assert "!! turn on “I purchase this product/service”" in listed

    vendors = ok_json(qbo_runtime, "vendors", "list", "--company", company_id)
    obrien = next(v for v in vendors if v["name"] == "O'Brien Électrique")
    assert obrien["qbo_id"]
    people = ok_json(qbo_runtime, "employees", "list", "--company", company_id)
    assert {p["name"] for p in people} == {"Dana Ortiz", "Zoë D'Angelo"}
    assert next(p for p in people if p["name"] == "Dana Ortiz")["cost_rate"] == "42.0000"

    # Typed in another case and with decomposed accents, the names still match.
    project = _project(project_factory, books, push_bills=True, time_tracking=True)
    typed = unicodedata.normalize("NFD", "o'brien électrique")
    bill = ok_json(
        qbo_runtime, "bills", "create", "--project", project, "--vendor", typed,
        "--date", "2026-03-02", "--line", "framing=10.00",
    )  # fmt: skip
    assert bill["vendor"] == "O'Brien Électrique"
    entry = ok_json(
        qbo_runtime, "time", "add", "--project", project, "--employee", "ZOË D'ANGELO",
        "--date", "2026-03-02", "--hours", "2",
    )  # fmt: skip
    work(qbo_runtime)
    [listed_bill] = ok_json(qbo_runtime, "bills", "list", "--project", project)
    pushed = books.client.read("Bill", listed_bill["qbo_id"])
    assert pushed["VendorRef"]["value"] == obrien["qbo_id"]
    assert ok_json(qbo_runtime, "time", "list", "--project", project)[0]["id"] == entry["id"]


def test_bill_with_a_file_is_pushed_by_a_worker_then_edited_and_deleted(
    qbo_runtime, committed_db, books, project_factory, tmp_path
):
    project = _project(project_factory, books, push_bills=True)
    scan = tmp_path / "Invoice #88412 (final).pdf"
    scan.write_bytes(b"%PDF-1.4\n% a scanned bill\n")
    made = ok_json(
        qbo_runtime, "bills", "create", "--project", project, "--vendor", "Hillside Lumber Supply",
        "--date", "2026-03-02", "--doc-number", "HL-88412", "--line", "Concrete=1250.10",
        "--line", "=99.99:notbillable", "--attach", str(scan),
    )  # fmt: skip
    assert (made["sync_status"], made["qbo_id"], made["total"]) == ("pending", None, "1350.09")
    assert [f["name"] for f in made["files"]] == ["Invoice _88412 (final).pdf"]

    work(qbo_runtime)  # a burst RQ worker on the real queues, JSON serializer
    [bill] = ok_json(qbo_runtime, "bills", "list", "--project", project)
    assert (bill["sync_status"], bill["last_error"]) == ("done", None)
    pushed = books.client.read("Bill", bill["qbo_id"])
    assert (pushed["TotalAmt"], pushed["DocNumber"]) == (D("1350.09"), "HL-88412")
    details = [line["ItemBasedExpenseLineDetail"] for line in pushed["Line"]]
    assert [d["BillableStatus"] for d in details] == ["Billable", "NotBillable"]
    [file] = bill["files"]
    assert file["sync_status"] == "done"
    attachable = books.client.read("Attachable", file["qbo_id"])
    assert attachable["AttachableRef"][0]["EntityRef"]["value"] == bill["qbo_id"]
    text = run(qbo_runtime, "bills", "list", "--project", project).stdout
    assert f"QBO {bill['qbo_id']}" in text
    assert "1350.09" in text

    result = run(qbo_runtime, "bills", "edit", str(bill["id"]), "--doc-number", "HL-88412-R")
    assert result.exit_code == 0, result.output
    assert "1 change(s) recorded for QuickBooks, 1 push job(s) queued" in result.stdout
    work(qbo_runtime)
    assert books.client.read("Bill", bill["qbo_id"])["DocNumber"] == "HL-88412-R"

    result = run(qbo_runtime, "bills", "delete", str(bill["id"]))
    assert result.exit_code == 0, result.output
    work(qbo_runtime)
    assert books.client.query("SELECT * FROM Bill").get("Bill", []) == []
    assert ok_json(qbo_runtime, "bills", "list", "--project", project) == []


def test_unknown_names_and_inexact_amounts_are_refused_in_one_line(
    qbo_runtime, books, project_factory
):
    project = _project(project_factory, books, push_bills=True)
    bill = ("bills", "create", "--project", project, "--date", "2026-03-02")
    assert refused(qbo_runtime, *bill, "--vendor", "Hillside Lumbr", "--line", "Concrete=5") == (
        "costbridge: No vendor is called “Hillside Lumbr”. Did you mean: “Hillside Lumber Supply”?"
    )
    line = refused(qbo_runtime, *bill, "--vendor", "Hillside Lumber Supply", "--line", "Concret=5")
    assert line.startswith("costbridge: No cost code is called “Concret”. Did you mean: “Concrete”")
    line = refused(
        qbo_runtime, *bill, "--vendor", "Hillside Lumber Supply", "--line", "Concrete=12.345"
    )
    assert "“12.345” has more decimals than cents" in line
    line = refused(qbo_runtime, *bill, "--vendor", "Hillside Lumber Supply", "--line", "Concrete")
    assert "is not CODE=AMOUNT[:billable|:notbillable]" in line
    time = ("time", "add", "--project", project, "--date", "2026-03-02", "--hours", "8")
    line = refused(qbo_runtime, *time, "--employee", "Dana Ortis")
    assert line.endswith("Did you mean: “Dana Ortiz”?")
    assert ok_json(qbo_runtime, "bills", "list", "--project", project) == []


def test_invoice_with_markup_is_sent_with_exact_totals(qbo_runtime, books, project_factory):
    project = _project(
        project_factory,
        books,
        send_invoices=True,
        default_invoice_code=books.framing.id,
        profit_code=books.profit.id,
    )
    made = ok_json(
        qbo_runtime, "invoices", "create", "--project", project, "--date", "2026-03-31",
        "--doc-number", "1042", "--line", "Concrete=1000.00", "--line", "=333.33",
        "--markup", "10",
    )  # fmt: skip
    assert (made["amount"], made["markup"], made["total"]) == ("1333.33", "133.33", "1466.66")
    assert made["markup_percent"] == "10.0000"
    work(qbo_runtime)
    [invoice] = ok_json(qbo_runtime, "invoices", "list", "--project", project)
    assert (invoice["sync_status"], invoice["markup_percent"]) == ("done", "10.0000")
    pushed = books.client.read("Invoice", invoice["qbo_id"])
    assert (pushed["TotalAmt"], pushed["DocNumber"]) == (D("1466.66"), "1042")
    line = refused(
        qbo_runtime, "invoices", "create", "--project", project, "--date", "2026-03-31",
        "--line", "Concrete=1.00", "--markup", "ten",
    )  # fmt: skip
    assert line.startswith("costbridge: The markup “ten” is not a number.")


def test_time_entry_is_pushed_as_a_time_activity(qbo_runtime, books, project_factory):
    project = _project(project_factory, books, time_tracking=True)
    made = ok_json(
        qbo_runtime, "time", "add", "--project", project, "--employee", "Dana Ortiz",
        "--date", "2026-03-03", "--hours", "7.5", "--code", "Concrete", "--not-billable",
    )  # fmt: skip
    assert (made["hours"], made["code"], made["billable"]) == ("7.50", "Concrete", False)
    work(qbo_runtime)
    [entry] = ok_json(qbo_runtime, "time", "list", "--project", project)
    activity = books.client.read("TimeActivity", entry["qbo_id"])
    assert activity["EmployeeRef"]["value"] == books.employee.qbo_employee_id
    assert activity["ItemRef"]["value"] == books.concrete.qbo_item_id
    assert activity["BillableStatus"] == "NotBillable"


def test_outbox_retry_after_a_fix_and_cancel(
    qbo_runtime, committed_db, company, books, project_factory
):
    project = _project(project_factory, books, push_bills=True)
    stranger = Vendor(company_id=company.id, name="Cedar & Sons")  # not connected to QBO
    committed_db.add(stranger)
    committed_db.commit()
    ok_json(
        qbo_runtime, "bills", "create", "--project", project, "--vendor", "cedar & sons",
        "--date", "2026-03-02", "--line", "Concrete=40.00",
    )  # fmt: skip
    work(qbo_runtime)
    [refusal] = ok_json(qbo_runtime, "outbox", "list", "--state", "needs_admin")
    assert refusal["last_error"]
    assert refusal["qbo_id"] is None
    assert "needs_admin" in run(qbo_runtime, "outbox", "list").stdout

    stranger.qbo_vendor_id = books.vendor.qbo_vendor_id  # support connects the vendor
    committed_db.commit()
    result = run(qbo_runtime, "outbox", "retry", "--failed")
    assert result.exit_code == 0, result.output
    assert "1 row(s) put back to be sent, 1 push job(s) queued" in result.stdout
    work(qbo_runtime)
    [done] = ok_json(qbo_runtime, "outbox", "list", "--state", "done")
    assert done["id"] == refusal["id"]
    assert done["qbo_id"]

    result = run(qbo_runtime, "outbox", "retry", str(done["id"]))
    assert f"!! outbox row {done['id']} is done: not sent again." in result.stderr
    line = refused(qbo_runtime, "outbox", "cancel", str(done["id"]))
    assert line == "costbridge: This change was already sent to QuickBooks."

    waiting = ok_json(
        qbo_runtime, "bills", "create", "--project", project, "--vendor", "Hillside Lumber Supply",
        "--date", "2026-03-03", "--line", "Concrete=60.00",
    )  # fmt: skip
    result = run(qbo_runtime, "outbox", "cancel", str(waiting["outbox_id"]))
    assert result.exit_code == 0, result.output
    work(qbo_runtime)
    committed_db.expire_all()
    row = committed_db.get(OutboxEntry, waiting["outbox_id"])
    assert row is not None
    assert row.state == OutboxState.CANCELLED
    assert len(books.client.query("SELECT * FROM Bill")["Bill"]) == 1
    assert refused(qbo_runtime, "outbox", "retry", "999999") == (
        "costbridge: There is no outbox row 999999. Run `costbridge outbox list`."
    )


def _item_active(books, item_id, active):
    item = books.client.read("Item", item_id)
    books.client.update(
        "Item",
        {"Id": item_id, "SyncToken": item["SyncToken"], "Active": active},
        sparse=True,
        request_id=rid(),
    )


def test_outbox_list_group_names_the_inactive_item_and_retry_group_resends_it(
    qbo_runtime, committed_db, books, project_factory
):
    project = _project(project_factory, books, push_bills=True)
    _item_active(books, books.concrete.qbo_item_id, False)
    for n in range(2):
        ok_json(
            qbo_runtime, "bills", "create", "--project", project,
            "--vendor", "Hillside Lumber Supply", "--date", "2026-03-02",
            "--doc-number", f"G-{n}", "--line", "Concrete=40.00",
        )  # fmt: skip
        work(qbo_runtime)  # each alone: sent under its own requestid, refused (610)
    result = run(qbo_runtime, "outbox", "list", "--group")
    assert result.exit_code == 0, result.output
    first, fix, hint = result.stdout.strip().splitlines()
    key, words = first.split("  ", 1)
    assert words == "Item Concrete is inactive in QuickBooks: 2 bills"
    assert "Make Item Concrete active again in QuickBooks" in fix
    assert hint == "Re-send a group after the fix: costbridge outbox retry --group KEY"
    [group] = ok_json(qbo_runtime, "outbox", "list", "--group")
    assert (group["key"], group["count"], group["code"]) == (key, 2, "610")
    assert group["target"] == f"Item:{books.concrete.qbo_item_id}"

    assert refused(qbo_runtime, "outbox", "retry", "--failed", "--group", key) == (
        "costbridge: Say what to retry. Give outbox row ids, or --failed, or --group KEY."
    )
    assert refused(qbo_runtime, "outbox", "retry", "--group", "nosuchkey").startswith(
        "costbridge: There is no group of failed changes “nosuchkey”"
    )
    _item_active(books, books.concrete.qbo_item_id, True)
    result = run(qbo_runtime, "outbox", "retry", "--group", key)
    assert result.exit_code == 0, result.output
    assert f"2 row(s) of group {key} put back to be sent, 2 push job(s) queued" in result.stdout
    work(qbo_runtime)
    assert len(books.client.query("SELECT * FROM Bill")["Bill"]) == 2
    assert run(qbo_runtime, "outbox", "list", "--group").stdout.strip() == (
        "costbridge: no failed change."
    )


@pytest.mark.parametrize(
    ("wait", "when"), [(7.2, "in 8 seconds"), (None, "in a few minutes"), (600, "in a few minutes")]
)
def test_a_command_stopped_by_throttling_says_to_run_it_again(wait, when):
    import click

    from core.cli.common import fails_cleanly
    from core.qbo.errors import Throttled

    @click.command()
    @fails_cleanly
    def busy() -> None:
        raise Throttled(
            "QuickBooks' request limit for this company is used up for now.",
            fix="Nothing to do; it runs again shortly.",
            retry_after=wait,
        )

    result = CliRunner().invoke(busy, [])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "costbridge: QuickBooks' request limit for this company is used up for now. "
        f"Nothing runs this command again for you: run it again {when}."
    )
