"""The pull end to end: the sandbox's demo company over HTTP into PostgreSQL, checked against
totals this test computes on its own from the sandbox's raw records."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from collections import defaultdict
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import hookimpl
from core import namespace
from core.contracts import PluginInfo
from core.models import Actual
from core.models import BudgetLine
from core.models import Company
from core.models import CostCode
from core.models import Project
from core.models import RunState
from core.models import SyncCursor
from core.models import SyncRun
from core.plugins import make_plugin_manager
from core.projects import create_project
from core.projects import customer_choices
from core.projects import link_project
from core.projects import update_settings
from core.qbo import client_for
from core.runtime import Runtime
from core.sync.engine import pull_company
from costbridge_testing.sandbox import connect_company
from plugins.qbo_bills import pull as bills_pull

CENT = Decimal("0.01")
ENTITIES = ("Bill", "Purchase", "TimeActivity", "VendorCredit", "Employee", "Vendor")
TOGGLES = (
    "exclude_non_billable",
    "vendor_credits",
    "include_billed_time",
    "include_non_billable_time",
)


def _connect_demo(
    qbo_runtime: Runtime, company: Company, sandbox_control: Any, size: float
) -> dict[str, Any]:
    hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id
    sandbox_control._post("seed", {"kind": "demo", "realm_id": hint, "size": size})
    realm = connect_company(qbo_runtime.settings, qbo_runtime.sessions, company.id, realm_hint=hint)
    return {"realm": realm, "company_id": company.id}


@pytest.fixture
def demo(qbo_runtime: Runtime, company: Company, sandbox_control: Any) -> dict[str, Any]:
    """The company connected to a fresh, quarter-size demo construction company."""
    return _connect_demo(qbo_runtime, company, sandbox_control, 0.25)


@pytest.fixture
def full_demo(qbo_runtime: Runtime, company: Company, sandbox_control: Any) -> dict[str, Any]:
    """The company connected to the full demo construction company (about 10,000 lines)."""
    return _connect_demo(qbo_runtime, company, sandbox_control, 1.0)


def raw_state(sandbox_url: str, realm: str) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's stored records, read from its control API (not through costbridge)."""
    out = {}
    for entity in ENTITIES:
        resp = requests.get(
            f"{sandbox_url}/_sandbox/state", params={"realm": realm, "entity": entity}, timeout=30
        )
        resp.raise_for_status()
        out[entity] = json.loads(resp.text, parse_float=Decimal)["entities"][entity]
    return out


def _expense_lines(record: dict[str, Any]) -> list[tuple[str, dict[str, Any], Decimal]]:
    found = []
    for line in record.get("Line", []):
        kind = line.get("DetailType")
        if kind in ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail"):
            found.append((str(line["Id"]), line[kind], Decimal(str(line["Amount"]))))
    return found


def expected(
    raw: dict[str, list[dict[str, Any]]],
    customer: str,
    settings: dict[str, bool],
    item_codes: dict[str, int],
) -> list[tuple[str, int | None, Decimal]]:
    """(type, cost code, amount) of every line that must count for `customer`, worked out here."""
    rows: list[tuple[str, int | None, Decimal]] = []

    def add_expenses(record: dict[str, Any], kind: str, sign: int) -> None:
        for _line_id, detail, amount in _expense_lines(record):
            if (detail.get("CustomerRef") or {}).get("value") != customer:
                continue
            if settings["exclude_non_billable"] and detail.get("BillableStatus") == "NotBillable":
                continue
            item = (detail.get("ItemRef") or {}).get("value")
            rows.append((kind, item_codes.get(item), sign * amount))

    for bill in raw["Bill"]:
        add_expenses(bill, "bill", 1)
    for purchase in raw["Purchase"]:
        if purchase.get("PaymentType") == "CreditCard" and purchase.get("Credit") is True:
            add_expenses(purchase, "credit_card_credit", -1)
        elif purchase.get("TxnSource") == "BankFeed":
            add_expenses(purchase, "bank_transaction", 1)
        else:
            kind = {"Cash": "expense", "Check": "check", "CreditCard": "credit_card"}
            add_expenses(purchase, kind[purchase["PaymentType"]], 1)
    if settings["vendor_credits"]:
        for credit in raw["VendorCredit"]:
            add_expenses(credit, "vendor_credit", -1)
    people = {
        ("Employee", e["Id"]): e.get("CostRate") for e in raw["Employee"] if "CostRate" in e
    } | {("Vendor", v["Id"]): v.get("CostRate") for v in raw["Vendor"] if "CostRate" in v}
    for entry in raw["TimeActivity"]:
        if (entry.get("CustomerRef") or {}).get("value") != customer:
            continue
        status = entry.get("BillableStatus", "NotBillable")
        if status == "HasBeenBilled" and not settings["include_billed_time"]:
            continue
        if status == "NotBillable" and not settings["include_non_billable_time"]:
            continue
        if "Hours" in entry or "Minutes" in entry:
            hours = Decimal(entry.get("Hours", 0)) + Decimal(entry.get("Minutes", 0)) / 60
        else:
            start = dt.datetime.fromisoformat(entry["StartTime"])
            end = dt.datetime.fromisoformat(entry["EndTime"])
            worked = Decimal(int((end - start).total_seconds())) / 3600
            hours = (
                worked
                - Decimal(entry.get("BreakHours", 0))
                - Decimal(entry.get("BreakMinutes", 0)) / 60
            )
        who = "Employee" if entry.get("EmployeeRef") else "Vendor"
        rate = entry.get("CostRate")
        if rate is None:
            rate = people.get((who, entry[f"{who}Ref"]["value"])) or 0
        amount = (hours * Decimal(str(rate))).quantize(CENT, rounding=ROUND_HALF_UP)
        item = (entry.get("ItemRef") or {}).get("value")
        rows.append(("time", item_codes.get(item), amount))
    return rows


def stored(session: Any, project_id: int) -> list[tuple[str, int | None, Decimal]]:
    """What counts for the project in the database."""
    return [
        (str(t), code, amount)
        for t, code, amount in session.execute(
            select(Actual.actual_type, Actual.cost_code_id, Actual.amount).where(
                Actual.project_id == project_id, Actual.excluded_reason.is_(None)
            )
        )
    ]


def totals(
    rows: list[tuple[str, int | None, Decimal]],
) -> tuple[dict[str, Decimal], dict[Any, Decimal]]:
    by_type: dict[str, Decimal] = defaultdict(Decimal)
    by_code: dict[Any, Decimal] = defaultdict(Decimal)
    for kind, code, amount in rows:
        by_type[kind] += amount
        by_code[code] += amount
    return dict(by_type), dict(by_code)


def busiest_customer(raw: dict[str, list[dict[str, Any]]]) -> str:
    """The customer with the most cost lines of every kind (so every toggle matters)."""
    seen: Counter[str] = Counter()
    for entity in ("Bill", "Purchase", "VendorCredit"):
        for record in raw[entity]:
            for _id, detail, _amount in _expense_lines(record):
                if detail.get("CustomerRef"):
                    seen[detail["CustomerRef"]["value"]] += 1
    time_customers = {(t.get("CustomerRef") or {}).get("value") for t in raw["TimeActivity"]}
    credit_customers = {
        d.get("CustomerRef", {}).get("value")
        for c in raw["VendorCredit"]
        for _i, d, _a in _expense_lines(c)
    }
    return next(c for c, _n in seen.most_common() if c in time_customers and c in credit_customers)


def connect_items(
    session: Any, company_id: int, raw: dict[str, Any], customer: str
) -> dict[str, int]:
    """Connect half of the items used on the customer's lines to new cost codes."""
    used = sorted(
        {
            (d.get("ItemRef") or {}).get("value")
            for e in ("Bill", "Purchase")
            for r in raw[e]
            for _i, d, _a in _expense_lines(r)
            if (d.get("CustomerRef") or {}).get("value") == customer and d.get("ItemRef")
        }
        | {
            (t.get("ItemRef") or {}).get("value")
            for t in raw["TimeActivity"]
            if (t.get("CustomerRef") or {}).get("value") == customer and t.get("ItemRef")
        }
    )
    codes = {}
    for n, item in enumerate(used[::2]):
        code = CostCode(
            company_id=company_id,
            code=f"C{n:03d}",
            name=f"Item {item}",
            qbo_item_id=item,
            sells=True,
            purchases=True,
        )
        session.add(code)
        session.flush()
        codes[item] = code.id
    session.commit()
    return codes


def test_pull_totals_match_raw_records_for_every_toggle_combination(
    qbo_runtime: Runtime, full_demo: dict[str, Any], qbo_sandbox: Any, sandbox_control: Any
) -> None:
    demo = full_demo
    raw = raw_state(qbo_sandbox.url, demo["realm"])
    customer = busiest_customer(raw)
    with qbo_runtime.sessions() as session:
        item_codes = connect_items(session, demo["company_id"], raw, customer)
        company = session.get(Company, demo["company_id"])
        project = create_project(session, qbo_runtime.pm, company, "Kitchen job")
        choices = customer_choices(client_for(qbo_runtime, demo["realm"]))
        link_project(session, qbo_runtime.pm, project, next(c for c in choices if c.id == customer))
        session.commit()
        project_id = project.id

    report = pull_company(qbo_runtime, demo["company_id"], project_id=project_id)
    assert report.state == RunState.SUCCEEDED, report.message
    assert report.problems == []
    # A first sync pages queries: ⌈records/1000⌉ requests per entity (one more on an exact fill).
    for entity in ("Bill", "Purchase", "TimeActivity", "VendorCredit"):
        pages = -(-len(raw[entity]) // 1000)
        assert report.requests[entity] in (pages, pages + 1), entity

    before = sandbox_control.counters()
    combos = [dict(zip(TOGGLES, bits, strict=True)) for bits in _all_bits(len(TOGGLES))]
    for combo in combos:
        with qbo_runtime.sessions() as session:
            project = session.get(Project, project_id)
            assert update_settings(session, qbo_runtime.pm, project, combo) == []
            session.commit()
            want_type, want_code = totals(expected(raw, customer, combo, item_codes))
            got_type, got_code = totals(stored(session, project_id))
        assert got_type == want_type, combo
        assert got_code == want_code, combo
        assert None in got_code  # the Uncoded row collects lines of unconnected items
    # Flipping toggles re-applied stored lines: QuickBooks was not asked anything.
    assert sandbox_control.counters() == before


def _all_bits(n: int) -> list[tuple[bool, ...]]:
    return [tuple(bool(i >> b & 1) for b in range(n)) for i in range(2**n)]


def test_second_pull_changes_nothing_and_uses_one_cdc_call(
    qbo_runtime: Runtime, demo: dict[str, Any]
) -> None:
    first = pull_company(qbo_runtime, demo["company_id"])
    with qbo_runtime.sessions() as session:
        rows = session.execute(select(Actual).order_by(Actual.id)).scalars().all()
        snapshot = [(r.id, r.qbo_entity, r.qbo_id, r.qbo_line_id, r.amount) for r in rows]
    second = pull_company(qbo_runtime, demo["company_id"])
    assert first.tally.added == len(snapshot)
    assert len(snapshot) > 1000
    assert second.requests == {"cdc": 1}
    assert set(second.modes.values()) == {"cdc"}
    assert (second.tally.added, second.tally.changed, second.tally.removed) == (0, 0, 0)
    with qbo_runtime.sessions() as session:
        rows = session.execute(select(Actual).order_by(Actual.id)).scalars().all()
        assert [(r.id, r.qbo_entity, r.qbo_id, r.qbo_line_id, r.amount) for r in rows] == snapshot


def _write(client: Any, entity: str, record: dict[str, Any]) -> dict[str, Any]:
    return client.update(entity, record, request_id=f"test-{random.random()}")  # noqa: S311


def test_edit_move_and_delete_reach_the_stored_lines(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    pull_company(qbo_runtime, demo["company_id"])
    client = client_for(qbo_runtime, demo["realm"])
    raw = raw_state(qbo_sandbox.url, demo["realm"])
    bills = [b for b in raw["Bill"] if len(_expense_lines(b)) >= 2]
    edited, moved = bills[0], bills[1]
    # An edit: the first line's amount changes (an item line keeps Qty x UnitPrice true).
    line = edited["Line"][0]
    new_amount = Decimal(str(line["Amount"])) + Decimal("10.05")
    detail = line[line["DetailType"]]
    if "UnitPrice" in detail:
        detail["Qty"], detail["UnitPrice"] = 1, new_amount
    line["Amount"] = new_amount
    _write(client, "Bill", _clean(edited))
    # A move: the second bill's first line goes to another customer.
    other = next(
        c["Id"] for c in raw_state_customers(qbo_sandbox.url, demo["realm"]) if c["Id"] != "0"
    )
    mline = moved["Line"][0]
    mline[mline["DetailType"]]["CustomerRef"] = {"value": other}
    _write(client, "Bill", _clean(moved))
    # A delete.
    gone = raw["Purchase"][0]
    client.delete("Purchase", gone["Id"], gone["SyncToken"], request_id="test-delete-1")

    report = pull_company(qbo_runtime, demo["company_id"])
    assert report.modes == dict.fromkeys(
        ("Bill", "JournalEntry", "Purchase", "TimeActivity", "VendorCredit"), "cdc"
    )
    with qbo_runtime.sessions() as session:
        amount = session.scalar(
            select(Actual.amount).where(
                Actual.qbo_entity == "Bill",
                Actual.qbo_id == edited["Id"],
                Actual.qbo_line_id == str(line["Id"]),
            )
        )
        assert amount == new_amount.quantize(CENT)
        assert (
            session.scalar(
                select(Actual.customer_ref).where(
                    Actual.qbo_entity == "Bill",
                    Actual.qbo_id == moved["Id"],
                    Actual.qbo_line_id == str(mline["Id"]),
                )
            )
            == other
        )
        assert not session.scalars(
            select(Actual).where(Actual.qbo_entity == "Purchase", Actual.qbo_id == gone["Id"])
        ).all()
        # Every stored line equals what the sandbox now holds, line for line.
        fresh = raw_state(qbo_sandbox.url, demo["realm"])
        want = {
            (e, r["Id"], lid): amount
            for e, sign in (("Bill", 1), ("VendorCredit", -1))
            for r in fresh[e]
            for lid, _d, amount in ((i, d, sign * a) for i, d, a in _expense_lines(r))
        }
        got = {
            (e, i, lid): a
            for e, i, lid, a in session.execute(
                select(Actual.qbo_entity, Actual.qbo_id, Actual.qbo_line_id, Actual.amount).where(
                    Actual.qbo_entity.in_(("Bill", "VendorCredit"))
                )
            )
        }
        assert got == want


def raw_state_customers(sandbox_url: str, realm: str) -> list[dict[str, Any]]:
    resp = requests.get(
        f"{sandbox_url}/_sandbox/state", params={"realm": realm, "entity": "Customer"}, timeout=30
    )
    return list(resp.json()["entities"]["Customer"])


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    """A full-update body: the record less what QBO computes."""
    return {k: v for k, v in record.items() if k not in ("TotalAmt", "Balance", "MetaData")}


def test_linking_a_project_fills_its_budget_without_a_pull(
    qbo_runtime: Runtime, demo: dict[str, Any], sandbox_control: Any
) -> None:
    pull_company(qbo_runtime, demo["company_id"])
    with qbo_runtime.sessions() as session:
        customer, lines = session.execute(
            select(Actual.customer_ref, func.count())
            .where(Actual.customer_ref.is_not(None))
            .group_by(Actual.customer_ref)
            .order_by(func.count().desc())
        ).first()
        company = session.get(Company, demo["company_id"])
        project = create_project(session, qbo_runtime.pm, company, "Later link")
        choices = customer_choices(client_for(qbo_runtime, demo["realm"]))
        before = sandbox_control.counters()
        result = link_project(
            session, qbo_runtime.pm, project, next(c for c in choices if c.id == customer)
        )
        session.commit()
        assert sandbox_control.counters() == before
        assert result.lines == lines
        assert (
            session.scalar(
                select(func.count()).select_from(Actual).where(Actual.project_id == project.id)
            )
            == lines
        )


def test_dry_run_lists_changes_and_writes_nothing(
    qbo_runtime: Runtime, demo: dict[str, Any]
) -> None:
    report = pull_company(qbo_runtime, demo["company_id"], dry_run=True)
    assert report.dry_run
    assert report.run_id is None
    assert report.tally.added > 1000
    assert report.tally.changes[0].action == "add"
    with qbo_runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Actual)) == 0
        assert session.scalar(select(func.count()).select_from(SyncCursor)) == 0
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 0


def test_cursor_older_than_cdc_window_falls_back_to_queries(
    qbo_runtime: Runtime, demo: dict[str, Any]
) -> None:
    pull_company(qbo_runtime, demo["company_id"])
    with qbo_runtime.sessions() as session:
        for cursor in session.scalars(select(SyncCursor)):
            cursor.position = cursor.position - dt.timedelta(days=40)
        session.commit()
    report = pull_company(qbo_runtime, demo["company_id"])
    assert set(report.modes.values()) == {"query"}
    assert (report.tally.added, report.tally.removed) == (0, 0)


def test_since_backfills_without_moving_cursors(qbo_runtime: Runtime, demo: dict[str, Any]) -> None:
    pull_company(qbo_runtime, demo["company_id"])
    with qbo_runtime.sessions() as session:
        cursors = {c.entity: c.position for c in session.scalars(select(SyncCursor))}
        session.execute(Actual.__table__.delete().where(Actual.qbo_entity == "Bill"))
        session.commit()
        since = max(session.scalars(select(Actual.txn_date))) - dt.timedelta(days=60)
    report = pull_company(qbo_runtime, demo["company_id"], since=since)
    assert report.tally.added > 0
    with qbo_runtime.sessions() as session:
        dates = set(session.scalars(select(Actual.txn_date).where(Actual.qbo_entity == "Bill")))
        assert dates
        assert min(dates) >= since
        assert {c.entity: c.position for c in session.scalars(select(SyncCursor))} == cursors


def test_not_connected_company_gets_a_needs_admin_run(
    qbo_runtime: Runtime, company: Company
) -> None:
    report = pull_company(qbo_runtime, company.id)
    assert report.state == RunState.NEEDS_ADMIN
    assert "Connect to QuickBooks" in report.fix
    with qbo_runtime.sessions() as session:
        run = session.get(SyncRun, report.run_id)
        assert run is not None
        assert run.state == RunState.NEEDS_ADMIN


class _FailingBills:
    """Owns Bill like qbo_bills, but cannot read one record."""

    def __init__(self, bad_id: str) -> None:
        self.bad_id = bad_id

    @hookimpl
    def plugin_info(self) -> PluginInfo:
        return PluginInfo(name="failing_bills", label="Failing bills", owns=("Bill",))

    @hookimpl
    def actual_lines(self, record: Any, lookups: Any) -> Any:
        if record.id == self.bad_id:
            raise ValueError("unexpected line shape")
        return bills_pull.lines(record, lookups)


def test_one_bad_record_is_reported_and_the_others_are_applied(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    raw = raw_state(qbo_sandbox.url, demo["realm"])
    bad = raw["Bill"][3]["Id"]
    qbo_runtime.pm = make_plugin_manager(
        blocked=["qbo_bills"], extra=[("failing_bills", _FailingBills(bad))]
    )
    report = pull_company(qbo_runtime, demo["company_id"])
    assert report.state == RunState.PARTIAL
    assert [(p.entity, p.id) for p in report.problems] == [("Bill", bad)]
    with qbo_runtime.sessions() as session:
        ids = set(session.scalars(select(Actual.qbo_id).where(Actual.qbo_entity == "Bill")))
        run = session.get(SyncRun, report.run_id)
    assert bad not in ids
    assert len(ids) == len({b["Id"] for b in raw["Bill"] if _expense_lines(b)}) - 1
    assert run is not None
    assert run.state == RunState.PARTIAL
    assert f"bill {bad}" in (run.detail or "")


def test_one_uncoded_budget_row_per_project(db: Any) -> None:
    company = Company(name="Uncoded Co")
    db.add(company)
    db.flush()
    project = Project(company_id=company.id, name="P")
    db.add(project)
    db.flush()
    db.add(BudgetLine(project_id=project.id, cost_code_id=None, budget_amount=Decimal("1.00")))
    db.flush()
    db.add(BudgetLine(project_id=project.id, cost_code_id=None, budget_amount=Decimal("2.00")))
    with pytest.raises(IntegrityError):
        db.flush()


def test_a_dead_grant_mid_pull_asks_for_a_reconnect(
    qbo_runtime: Runtime, demo: dict[str, Any], sandbox_control: Any
) -> None:
    sandbox_control.revoke_tokens(demo["realm"])
    sandbox_control.expire_tokens(demo["realm"])
    report = pull_company(qbo_runtime, demo["company_id"])
    assert report.state == RunState.NEEDS_ADMIN
    assert "Connect to QuickBooks" in report.fix
    with qbo_runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SyncCursor)) == 0
        run = session.get(SyncRun, report.run_id)
        assert run is not None
        assert run.state == RunState.NEEDS_ADMIN


def test_two_pulls_at_once_take_turns_and_store_each_line_once(
    qbo_runtime: Runtime, demo: dict[str, Any]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda _: pull_company(qbo_runtime, demo["company_id"]), range(2)))
    assert [r.state for r in reports] == [RunState.SUCCEEDED, RunState.SUCCEEDED]
    first, second = sorted(reports, key=lambda r: -r.tally.added)
    assert second.tally.added == 0
    assert second.modes == dict.fromkeys(
        ("Bill", "JournalEntry", "Purchase", "TimeActivity", "VendorCredit"), "cdc"
    )
    with qbo_runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Actual)) == first.tally.added


def _invoice_in_qbo(client: Any, customer: str, item: str) -> dict[str, Any]:
    return client.create(
        "Invoice",
        {
            "CustomerRef": {"value": customer},
            "Line": [
                {
                    "Amount": Decimal("500.00"),
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item},
                        "Qty": 1,
                        "UnitPrice": Decimal("500.00"),
                    },
                }
            ],
        },
        request_id=f"test-invoice-{random.random()}",  # noqa: S311
    )


def test_paid_status_of_pushed_invoices_comes_from_qbo_on_every_pull(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    from core.models import Invoice
    from core.models import InvoiceStatus
    from core.models import RemoteMapping

    pull_company(qbo_runtime, demo["company_id"])  # the first sync: cursors in place
    client = client_for(qbo_runtime, demo["realm"])
    customer = raw_state_customers(qbo_sandbox.url, demo["realm"])[0]["Id"]
    item = client.query("SELECT * FROM Item WHERE Type = 'Service' MAXRESULTS 1")["Item"][0]["Id"]
    paid, partly = _invoice_in_qbo(client, customer, item), _invoice_in_qbo(client, customer, item)
    with qbo_runtime.sessions() as session:
        company = session.get(Company, demo["company_id"])
        project = create_project(session, qbo_runtime.pm, company, "Invoiced job")
        for qbo in (paid, partly):
            invoice = Invoice(
                project_id=project.id,
                invoice_date=dt.date(2026, 11, 1),
                status=InvoiceStatus.SENT,
            )
            session.add(invoice)
            session.flush()
            session.add(
                RemoteMapping(
                    realm_id=demo["realm"],
                    entity="Invoice",
                    qbo_id=qbo["Id"],
                    local_kind="invoice",
                    local_id=invoice.id,
                )
            )
        session.commit()
    for qbo, amount in ((paid, "500.00"), (partly, "200.00")):
        client.create(
            "Payment",
            {
                "CustomerRef": {"value": customer},
                "TotalAmt": Decimal(amount),
                "Line": [
                    {
                        "Amount": Decimal(amount),
                        "LinkedTxn": [{"TxnId": qbo["Id"], "TxnType": "Invoice"}],
                    }
                ],
            },
            request_id=f"test-payment-{qbo['Id']}",
        )
    report = pull_company(qbo_runtime, demo["company_id"])
    assert report.requests == {"cdc": 1}
    assert report.invoices_updated == 2
    with qbo_runtime.sessions() as session:
        by_qbo = {
            m.qbo_id: session.get(Invoice, m.local_id)
            for m in session.scalars(select(RemoteMapping).filter_by(local_kind="invoice"))
        }
        assert by_qbo[paid["Id"]].status == InvoiceStatus.PAID
        assert by_qbo[partly["Id"]].status == InvoiceStatus.PARTIALLY_PAID
        assert by_qbo[partly["Id"]].balance == Decimal("300.00")


def test_an_edit_dated_in_a_closed_period_is_flagged_on_the_run(
    qbo_runtime: Runtime, demo: dict[str, Any]
) -> None:
    pull_company(qbo_runtime, demo["company_id"])
    client = client_for(qbo_runtime, demo["realm"])
    bill = client.query("SELECT * FROM Bill ORDERBY TxnDate MAXRESULTS 1")["Bill"][0]
    prefs = client.request("GET", "preferences", what="test")["Preferences"]
    client.update(
        "Preferences",
        {
            "Id": prefs.get("Id", "1"),
            "SyncToken": prefs["SyncToken"],
            "AccountingInfoPrefs": {"BookCloseDate": bill["TxnDate"]},  # the oldest bill's day
        },
        sparse=True,
        request_id="test-close-books",
    )
    qbo_runtime.redis.delete(namespace.redis_key(qbo_runtime.redis, "book-close", demo["realm"]))
    bill["PrivateNote"] = "edited after the books closed"
    _write(client, "Bill", _clean(bill))
    report = pull_company(qbo_runtime, demo["company_id"])
    assert report.closed_period == [f"Bill {bill['Id']}"]
    with qbo_runtime.sessions() as session:
        run = session.get(SyncRun, report.run_id)
        assert run is not None
        assert run.counts["closed_period_changes"] == 1
        assert f"Bill {bill['Id']}" in (run.detail or "")
        assert "closed period" in (run.detail or "")


def test_a_line_changed_by_a_later_pull_records_that_pull_as_its_lineage(
    qbo_runtime: Runtime, demo: dict[str, Any], qbo_sandbox: Any
) -> None:
    first = pull_company(qbo_runtime, demo["company_id"])
    client = client_for(qbo_runtime, demo["realm"])
    raw = raw_state(qbo_sandbox.url, demo["realm"])
    edited = next(b for b in raw["Bill"] if len(_expense_lines(b)) >= 2)
    line = edited["Line"][0]
    new_amount = Decimal(str(line["Amount"])) + Decimal("3.00")
    detail = line[line["DetailType"]]
    if "UnitPrice" in detail:
        detail["Qty"], detail["UnitPrice"] = 1, new_amount
    line["Amount"] = new_amount
    with qbo_runtime.sessions() as session:
        before = session.execute(
            select(Actual.qbo_line_id, Actual.sync_run_id, Actual.pulled_at).where(
                Actual.qbo_entity == "Bill", Actual.qbo_id == edited["Id"]
            )
        ).all()
    assert {run for _l, run, _p in before} == {first.run_id}
    written = _write(client, "Bill", _clean(edited))

    second = pull_company(qbo_runtime, demo["company_id"])
    assert second.run_id != first.run_id
    with qbo_runtime.sessions() as session:
        changed = session.execute(
            select(Actual).where(
                Actual.qbo_entity == "Bill",
                Actual.qbo_id == edited["Id"],
                Actual.qbo_line_id == str(line["Id"]),
            )
        ).scalar_one()
        assert changed.sync_run_id == second.run_id
        assert changed.qbo_updated_at == dt.datetime.fromisoformat(
            written["MetaData"]["LastUpdatedTime"]
        )
        first_pulled = {lid: pulled for lid, _r, pulled in before}
        assert changed.pulled_at > first_pulled[str(line["Id"])]
        untouched = session.scalar(
            select(func.count()).where(
                Actual.sync_run_id == first.run_id,
                Actual.qbo_entity == "Purchase",
            )
        )
        assert untouched is not None
        assert untouched > 0  # lines no pull changed keep the run that wrote them
