"""The demo company seed: deterministic, varied, internally consistent, shaped like QBO.

Deterministic means a pure function of (seed, size): seeded on any day, at any hour, or "as of"
any day, it is the same company with its dates moved by whole weeks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from costbridge_testing.sandbox import Control
from costbridge_testing.shared import samples_dir
from sandbox import seed
from sandbox.server import SandboxServer
from sandbox.state import Realm
from sandbox.state import Sandbox
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import get_token
from tests.sandbox.conftest import registered_config

SAMPLES = samples_dir()
TZ = ZoneInfo("America/Los_Angeles")
"""The sandbox's default company zone."""
NOW = datetime(2026, 3, 10, 18, 30, tzinfo=UTC)
"""A Tuesday: 11:30 in the company's zone, two days after its clocks went forward."""
DEMO_TODAY = date(2026, 3, 8)
"""The last Sunday before NOW: where the demo's history ends when seeded then."""
TRANSACTIONS = ("Bill", "Purchase", "VendorCredit", "Invoice", "Payment", "TimeActivity")
REF_TARGETS = {
    "CustomerRef": "Customer",
    "VendorRef": "Vendor",
    "EmployeeRef": "Employee",
    "ItemRef": "Item",
    "AccountRef": "Account",
    "APAccountRef": "Account",
    "DepositToAccountRef": "Account",
    "IncomeAccountRef": "Account",
    "ExpenseAccountRef": "Account",
    "ItemAccountRef": "Account",
    "ClassRef": "Class",
    "SalesTermRef": "Term",
    "TermRef": "Term",
    "ParentRef": None,
}
APOSTROPHE_OR_ACCENT = re.compile(r"['\u00c0-\u024f\u1e00-\u1eff]")


def frozen_sandbox() -> Sandbox:
    sb = Sandbox()
    sb.clock.freeze(NOW)
    return sb


@pytest.fixture(scope="module")
def small() -> Realm:
    return seed.seed_demo(frozen_sandbox(), size=0.2)


@pytest.fixture(scope="module")
def demo() -> tuple[Realm, seed.SeedCounts]:
    return seed.seed_demo_counted(frozen_sandbox())


def raw_state(realm: Realm) -> dict[str, Any]:
    """Everything a realm stores (download links are minted per read and never stored)."""
    return {
        "store": realm.store,
        "deleted": realm.deleted,
        "changed_at": realm.changed_at,
        "files": realm.files,
    }


def walk_refs(obj: Any, path: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (path, key, ref) for every *Ref object nested in ``obj``."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key.endswith("Ref") and isinstance(value, dict) and "value" in value:
                yield f"{path}.{key}", key, value
            elif isinstance(value, dict | list):
                yield from walk_refs(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for item in obj:
            yield from walk_refs(item, path)


def sample(name: str) -> dict[str, Any]:
    body = json.loads((SAMPLES / f"{name}.response.json").read_text())
    entity = next(k for k in body if k != "time")
    result: dict[str, Any] = body[entity]
    return result


def costed_lines(realm: Realm) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for entity in ("Bill", "Purchase", "VendorCredit"):
        for txn in realm.all(entity):
            for line in txn["Line"]:
                yield entity, txn, line


# -- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_identical_state() -> None:
    first = seed.seed_demo(frozen_sandbox(), size=0.2, seed=11)
    second = seed.seed_demo(frozen_sandbox(), size=0.2, seed=11)
    assert raw_state(first) == raw_state(second)


def test_other_seed_gives_a_different_company() -> None:
    first = seed.seed_demo(frozen_sandbox(), size=0.2, seed=11)
    second = seed.seed_demo(frozen_sandbox(), size=0.2, seed=12)
    assert raw_state(first)["store"]["Bill"] != raw_state(second)["store"]["Bill"]


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")

SEEDED_AT = [
    # Seven days running, Thursday to Wednesday, from just after midnight to just before it;
    # the company's clocks go forward at 02:00 on Sunday 2026-03-08.
    datetime(2026, 3, 5, 0, 5, tzinfo=TZ),
    datetime(2026, 3, 6, 7, 30, tzinfo=TZ),
    datetime(2026, 3, 7, 12, 0, tzinfo=TZ),
    datetime(2026, 3, 8, 3, 15, tzinfo=TZ),
    datetime(2026, 3, 9, 19, 59, tzinfo=TZ),
    datetime(2026, 3, 10, 20, 1, tzinfo=TZ),
    datetime(2026, 3, 11, 23, 55, tzinfo=TZ),
    # A leap day, a year's last evening (already the new year in UTC), and the second
    # 01:30 of the night the clocks go back.
    datetime(2028, 2, 29, 9, 0, tzinfo=TZ),
    datetime(2027, 12, 31, 23, 30, tzinfo=TZ),
    datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=TZ),
]


def seeded_on(moment: datetime) -> Realm:
    """The size-0.2 demo (seed 7) seeded by a sandbox whose clock is frozen at ``moment``."""
    sb = Sandbox()
    sb.clock.freeze(moment)
    return seed.seed_demo(sb, seed=7, size=0.2)


def block_start(realm: Realm) -> date:
    info = realm.get("CompanyInfo", "1")
    assert info is not None
    return date.fromisoformat(info["CompanyStartDate"])


def relative(value: Any, start: date) -> Any:
    """``value`` with every date as days after ``start`` and every time as (days after
    ``start``, company wall-clock time); the UTC offset is left out, as DST may change it."""
    if isinstance(value, dict):
        return {key: relative(item, start) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [relative(item, start) for item in value]
    if isinstance(value, str) and DATE.fullmatch(value):
        return ("day", (date.fromisoformat(value) - start).days)
    if isinstance(value, str) and STAMP.fullmatch(value):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        wall = value.astimezone(TZ)
        return ("time", (wall.date() - start).days, wall.time())
    return value


def content(realm: Realm) -> Any:
    """Everything the realm stores, dated relative to the company's start."""
    return relative(raw_state(realm), block_start(realm))


def txn_weekdays(realm: Realm) -> dict[tuple[str, str], int]:
    return {
        (entity, txn["Id"]): date.fromisoformat(txn["TxnDate"]).weekday()
        for entity in TRANSACTIONS
        for txn in realm.all(entity)
    }


def every_time(realm: Realm) -> Iterator[datetime]:
    """Every timestamp the realm stores: MetaData and other stamps, and the change log."""

    def stamps(value: Any) -> Iterator[datetime]:
        if isinstance(value, dict):
            for item in value.values():
                yield from stamps(item)
        elif isinstance(value, list):
            for item in value:
                yield from stamps(item)
        elif isinstance(value, str) and STAMP.fullmatch(value):
            yield datetime.fromisoformat(value)

    yield from stamps(realm.store)
    yield from stamps(realm.deleted)
    for changes in realm.changed_at.values():
        yield from changes.values()


@pytest.mark.parametrize("moment", SEEDED_AT, ids=lambda m: m.strftime("%a-%Y-%m-%dT%H%M"))
def test_seeded_on_any_day_at_any_hour_it_is_the_same_company(
    small: Realm, moment: datetime
) -> None:
    realm = seeded_on(moment)
    assert (block_start(realm) - block_start(small)).days % 7 == 0
    assert content(realm) == content(small)


@pytest.mark.parametrize("moment", SEEDED_AT, ids=lambda m: m.strftime("%a-%Y-%m-%dT%H%M"))
def test_seeded_on_any_day_every_transaction_keeps_its_weekday(
    small: Realm, moment: datetime
) -> None:
    assert txn_weekdays(seeded_on(moment)) == txn_weekdays(small)


def test_history_ends_on_the_last_sunday_before_the_day_seeded() -> None:
    for moment, sunday in (
        (datetime(2026, 3, 15, 23, 0, tzinfo=TZ), date(2026, 3, 8)),
        (datetime(2026, 3, 16, 0, 1, tzinfo=TZ), date(2026, 3, 15)),
    ):
        realm = seeded_on(moment)
        created = [t.astimezone(TZ) for t in every_time(realm)]
        assert max(created).date() == sunday
        assert max(created).time() < time(20, 0)


@pytest.mark.parametrize(
    "as_of", [*SEEDED_AT, date(2028, 2, 29)], ids=lambda m: m.strftime("%a-%Y-%m-%dT%H%M")
)
def test_as_of_seeds_what_a_clock_frozen_then_seeds(as_of: date) -> None:
    moment = as_of if isinstance(as_of, datetime) else datetime.combine(as_of, time(12), TZ)
    realm = seed.seed_demo(Sandbox(), seed=7, size=0.2, as_of=as_of)
    assert raw_state(realm) == raw_state(seeded_on(moment))


@pytest.mark.parametrize("as_of", SEEDED_AT, ids=lambda m: m.strftime("%a-%Y-%m-%dT%H%M"))
def test_nothing_is_dated_after_the_as_of_moment(as_of: datetime) -> None:
    realm = seed.seed_demo(Sandbox(), size=0.2, as_of=as_of)
    assert max(every_time(realm)) < as_of
    latest = max(date.fromisoformat(t["TxnDate"]) for e in TRANSACTIONS for t in realm.all(e))
    assert latest < as_of.date()


def test_a_date_as_of_is_the_start_of_that_day_in_the_company_zone() -> None:
    realm = seed.seed_demo(Sandbox(), size=0.2, as_of=date(2026, 3, 9))
    assert max(every_time(realm)) < datetime(2026, 3, 9, tzinfo=TZ)


def test_a_naive_as_of_is_utc() -> None:
    # 2026-03-09 05:00 UTC is still Sunday evening in the company's zone: a week earlier.
    naive = seed.seed_demo(Sandbox(), size=0.2, as_of=datetime(2026, 3, 9, 5, 0))  # noqa: DTZ001
    monday = seed.seed_demo(Sandbox(), size=0.2, as_of=date(2026, 3, 9))
    assert block_start(naive) == block_start(monday) - timedelta(days=7)


def test_as_of_must_be_a_date() -> None:
    sb = Sandbox()
    with pytest.raises(TypeError, match="as_of"):
        seed.seed_demo(sb, size=0.2, as_of="2026-03-07")  # type: ignore[arg-type]
    assert not sb.has_realm(seed.DEMO_REALM_ID)


def test_control_api_seeds_the_demo_as_of_a_day(sandbox_server: SandboxServer) -> None:
    day = date(2027, 12, 31)
    realm_id = Control(sandbox_server.url).seed("demo", "5550001112223334", size=0.2, as_of=day)
    resp = requests.get(
        f"{sandbox_server.url}/_sandbox/state",
        params={"realm": realm_id, "entity": "Bill"},
        timeout=30,
    )
    resp.raise_for_status()
    served = [(b["Id"], b["TxnDate"], b["MetaData"]) for b in resp.json()["entities"]["Bill"]]
    local = seed.seed_demo(Sandbox(), size=0.2, as_of=day).all("Bill")
    assert served == [(b["Id"], b["TxnDate"], b["MetaData"]) for b in local]


@pytest.mark.parametrize("as_of", ["next week", 20260307, "2026-02-30"])
def test_control_api_refuses_an_as_of_that_is_not_a_date(
    sandbox_server: SandboxServer, as_of: object
) -> None:
    resp = requests.post(
        f"{sandbox_server.url}/_sandbox/seed",
        json={"kind": "demo", "realm_id": "5550001112223335", "size": 0.2, "as_of": as_of},
        timeout=30,
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "bad_request"


def test_realm_id_is_the_demo_constant_with_15_to_19_digits(small: Realm) -> None:
    assert small.id == seed.DEMO_REALM_ID
    assert re.fullmatch(r"\d{15,19}", seed.DEMO_REALM_ID)


# -- counts and variety ---------------------------------------------------------------------


def test_default_size_has_thousands_of_transactions_and_about_10k_lines(
    demo: tuple[Realm, seed.SeedCounts],
) -> None:
    realm, counts = demo
    assert counts.transactions >= 3000
    assert 9_000 <= counts.lines <= 12_000
    stored_lines = sum(
        1
        for entity in TRANSACTIONS
        for txn in realm.all(entity)
        for line in txn.get("Line", [])
        if line.get("DetailType") != "SubTotalLineDetail"
    )
    # Deleted transactions take their lines with them; nothing else removes lines.
    assert 0.97 * counts.lines <= stored_lines <= counts.lines


def test_name_lists_are_big_enough(demo: tuple[Realm, seed.SeedCounts]) -> None:
    realm, _ = demo
    assert len(realm.all("Item")) >= 40
    assert len(realm.all("Vendor")) >= 30
    assert len(realm.all("Employee")) >= 15
    assert sum(1 for c in realm.all("Customer") if not c.get("Job")) >= 20
    assert len(realm.all("Class")) >= 3
    assert len(realm.all("Term")) >= 3


def test_size_scales_transaction_lines_linearly() -> None:
    _, small_counts = seed.seed_demo_counted(frozen_sandbox(), size=0.2)
    _, double_counts = seed.seed_demo_counted(frozen_sandbox(), size=0.4)
    assert 1.8 <= double_counts.lines / small_counts.lines <= 2.2


def test_every_payment_type_and_a_credit_card_credit(small: Realm) -> None:
    purchases = small.all("Purchase")
    assert {p["PaymentType"] for p in purchases} == {"Cash", "Check", "CreditCard"}
    credits = [p for p in purchases if p.get("Credit") is True]
    assert credits
    assert all(p["PaymentType"] == "CreditCard" for p in credits)
    charges = [p for p in purchases if p["PaymentType"] == "CreditCard" and not p["Credit"]]
    assert charges


def test_some_purchases_come_from_the_bank_feed(small: Realm) -> None:
    fed = [p for p in small.all("Purchase") if p.get("TxnSource") == seed.BANK_FEED_SOURCE]
    assert fed
    assert {p["PaymentType"] for p in fed} == {"Cash"}
    assert len(fed) < sum(1 for p in small.all("Purchase") if p["PaymentType"] == "Cash")


def test_payment_accounts_match_payment_types(small: Realm) -> None:
    kinds = {a["Id"]: a["AccountType"] for a in small.all("Account")}
    for purchase in small.all("Purchase"):
        wanted = "Credit Card" if purchase["PaymentType"] == "CreditCard" else "Bank"
        assert kinds[purchase["AccountRef"]["value"]] == wanted
    cards = {
        p["AccountRef"]["value"] for p in small.all("Purchase") if p["PaymentType"] == "CreditCard"
    }
    assert len(cards) == 2


def test_vendor_credits_and_every_line_kind_and_billable_status(small: Realm) -> None:
    assert small.all("VendorCredit")
    lines = [line for _, _, line in costed_lines(small)]
    assert {line["DetailType"] for line in lines} == {
        "AccountBasedExpenseLineDetail",
        "ItemBasedExpenseLineDetail",
    }
    statuses = {line[line["DetailType"]]["BillableStatus"] for line in lines}
    assert statuses == {"Billable", "NotBillable", "HasBeenBilled"}
    uncoded = [
        line
        for line in lines
        if line["DetailType"] == "AccountBasedExpenseLineDetail"
        and "CustomerRef" in line["AccountBasedExpenseLineDetail"]
    ]
    assert uncoded


def test_bills_mix_account_and_item_lines_and_split_jobs(small: Realm) -> None:
    mixed = [b for b in small.all("Bill") if len({ln["DetailType"] for ln in b["Line"]}) == 2]
    assert mixed
    split = [
        b
        for b in small.all("Bill")
        if len({ln[ln["DetailType"]].get("CustomerRef", {}).get("value") for ln in b["Line"]}) > 1
    ]
    assert split


def test_time_from_employees_and_vendors_billable_and_not(small: Realm) -> None:
    times = small.all("TimeActivity")
    assert {t["NameOf"] for t in times} == {"Employee", "Vendor"}
    billable = [t for t in times if t["BillableStatus"] == "Billable"]
    assert billable
    assert all(t["HourlyRate"] > 0 and t["CostRate"] > 0 for t in billable)
    assert any(t["BillableStatus"] == "NotBillable" for t in times)
    assert any(t["BillableStatus"] == "HasBeenBilled" for t in times)
    assert all(isinstance(t["Hours"], int) and isinstance(t["Minutes"], int) for t in times)


def test_sub_customers_and_projects(small: Realm) -> None:
    customers = {c["Id"]: c for c in small.all("Customer")}
    jobs = [c for c in customers.values() if c.get("Job")]
    projects = [c for c in jobs if c["IsProject"]]
    assert projects
    assert any(not c["IsProject"] for c in jobs)
    for job in jobs:
        parent = customers[job["ParentRef"]["value"]]
        assert job["FullyQualifiedName"] == f"{parent['FullyQualifiedName']}:{job['DisplayName']}"
        assert job["Level"] == 1


def test_items_lacking_a_side_sub_items_and_inactive_ones(small: Realm) -> None:
    items = small.all("Item")
    both = [i for i in items if "IncomeAccountRef" in i and "ExpenseAccountRef" in i]
    buy_only = [i for i in items if "IncomeAccountRef" not in i]
    sell_only = [i for i in items if "ExpenseAccountRef" not in i]
    assert len(both) > len(buy_only) + len(sell_only)
    assert buy_only
    assert sell_only
    assert any(i["Name"] == "90-100 Markup / Profit" for i in sell_only)
    subs = [i for i in items if i.get("SubItem")]
    assert subs
    assert all(i["Level"] == 1 and ":" in i["FullyQualifiedName"] for i in subs)
    assert 1 <= sum(1 for i in items if i["Active"] is False) <= 3


def test_names_with_apostrophes_and_non_ascii(small: Realm) -> None:
    vendors = {v["DisplayName"] for v in small.all("Vendor")}
    assert {"O'Brien & Sons Electric", "Café Ñandú Catering", "Müller Stahlbau"} <= vendors
    customers = [c["FullyQualifiedName"] for c in small.all("Customer")]
    assert any("'" in name for name in customers)
    assert any(not name.isascii() for name in customers)
    employees = [e["DisplayName"] for e in small.all("Employee")]
    assert any(APOSTROPHE_OR_ACCENT.search(name) for name in employees)


def test_attachments_have_files_linked_to_bills(small: Realm) -> None:
    attachables = small.all("Attachable")
    assert attachables
    kinds = {a["ContentType"] for a in attachables}
    assert "application/pdf" in kinds
    for att in attachables:
        name, ctype, data = small.files[att["Id"]]
        assert (name, ctype, len(data)) == (att["FileName"], att["ContentType"], att["Size"])
        ref = att["AttachableRef"][0]["EntityRef"]
        assert small.get(ref["type"], ref["value"]) is not None
        if ctype == "application/pdf":
            assert data.startswith(b"%PDF-1.4")
            assert data.rstrip().endswith(b"%%EOF")
        elif ctype == "image/png":
            assert data.startswith(b"\x89PNG")
    assert any(a["AttachableRef"][0]["EntityRef"]["type"] == "Bill" for a in attachables)


def test_deleted_transactions_are_stubs_in_the_change_log(small: Realm) -> None:
    stubs = [(entity, stub) for entity in TRANSACTIONS for stub in small.deleted[entity].values()]
    assert stubs
    for entity, stub in stubs:
        assert stub["status"] == "Deleted"
        assert small.get(entity, stub["Id"]) is None
        assert small.changed_at[entity][stub["Id"]] <= NOW


def test_voided_invoices_are_zeroed(small: Realm) -> None:
    voided = [i for i in small.all("Invoice") if i.get("PrivateNote") == "Voided"]
    assert voided
    for inv in voided:
        assert inv["TotalAmt"] == 0
        assert inv["Balance"] == 0
        assert inv["SyncToken"] == "1"


# -- consistency ----------------------------------------------------------------------------


def test_every_reference_resolves(small: Realm) -> None:
    for entity in (*TRANSACTIONS, "Item", "Customer", "Vendor", "Account"):
        for obj in small.all(entity):
            for path, key, ref in walk_refs(obj):
                target = REF_TARGETS.get(key, "skip")
                if key == "ParentRef":
                    target = entity
                if key == "EntityRef":
                    target = ref["type"]
                if key == "TaxCodeRef" or target == "skip":
                    continue
                assert small.get(str(target), ref["value"]) is not None, (entity, obj["Id"], path)


def test_names_exist_before_the_transactions_using_them(small: Realm) -> None:
    for entity in TRANSACTIONS:
        for obj in small.all(entity):
            created = datetime.fromisoformat(obj["MetaData"]["CreateTime"])
            for _, key, ref in walk_refs(obj):
                if key in ("CustomerRef", "VendorRef", "ItemRef", "EmployeeRef"):
                    target = small.get(REF_TARGETS[key] or "", ref["value"])
                    assert target is not None
                    assert datetime.fromisoformat(target["MetaData"]["CreateTime"]) <= created


def test_ref_names_match_their_targets(small: Realm) -> None:
    for entity in TRANSACTIONS:
        for obj in small.all(entity):
            for _, key, ref in walk_refs(obj):
                if key in ("CustomerRef", "VendorRef", "ItemRef", "EmployeeRef", "AccountRef"):
                    target = small.get(REF_TARGETS[key] or "", ref["value"])
                    assert target is not None
                    assert ref["name"] == target.get(
                        "FullyQualifiedName", target.get("DisplayName")
                    )


def test_total_amount_is_the_sum_of_line_amounts(small: Realm) -> None:
    for entity in ("Bill", "Purchase", "VendorCredit", "Invoice"):
        for txn in small.all(entity):
            lines = [ln for ln in txn["Line"] if ln["DetailType"] != "SubTotalLineDetail"]
            assert txn["TotalAmt"] == sum(ln["Amount"] for ln in lines), (entity, txn["Id"])
    for pay in small.all("Payment"):
        applied = sum(ln["Amount"] for ln in pay["Line"])
        assert pay["TotalAmt"] == applied + pay["UnappliedAmt"]


def test_item_lines_are_quantity_times_unit_price(small: Realm) -> None:
    for _, _, line in costed_lines(small):
        if line["DetailType"] == "ItemBasedExpenseLineDetail":
            detail = line["ItemBasedExpenseLineDetail"]
            assert detail["Qty"] * detail["UnitPrice"] == line["Amount"]


def test_invoice_balances_follow_their_payments(small: Realm) -> None:
    paid: dict[str, Decimal] = {}
    for pay in small.all("Payment"):
        for line in pay["Line"]:
            for link in line["LinkedTxn"]:
                paid[link["TxnId"]] = paid.get(link["TxnId"], Decimal(0)) + line["Amount"]
                assert small.get("Invoice", link["TxnId"]) is not None
    assert paid
    for inv in small.all("Invoice"):
        assert inv["Balance"] == inv["TotalAmt"] - paid.get(inv["Id"], Decimal(0))
        links = [lk["TxnId"] for lk in inv["LinkedTxn"]]
        assert all(small.get("Payment", p) is not None for p in links)
        assert bool(links) == (inv["Id"] in paid)


def test_money_is_decimal_in_cents(small: Realm) -> None:
    for _, txn, line in costed_lines(small):
        assert isinstance(line["Amount"], Decimal)
        assert line["Amount"].as_tuple().exponent == -2
        assert line["Amount"] > 0
        assert isinstance(txn["TotalAmt"], Decimal)


def test_transactions_span_18_months_up_to_the_demo_today(small: Realm) -> None:
    created = [
        datetime.fromisoformat(t["MetaData"]["CreateTime"]).astimezone(TZ)
        for e in TRANSACTIONS
        for t in small.all(e)
    ]
    dates = [date.fromisoformat(t["TxnDate"]) for e in TRANSACTIONS for t in small.all(e)]
    assert max(created) < datetime.combine(DEMO_TODAY, time(20, 0), TZ)
    assert max(created).date() == DEMO_TODAY
    assert min(created).date() >= DEMO_TODAY - timedelta(days=seed.HISTORY_DAYS)
    assert max(created) - min(created) > timedelta(days=480)
    assert max(dates) < DEMO_TODAY
    assert min(dates) >= DEMO_TODAY - timedelta(days=seed.HISTORY_DAYS)
    assert len({c.date() for c in created}) > 300


def test_ids_grow_with_entry_time(small: Realm) -> None:
    bills = sorted(small.all("Bill"), key=lambda b: int(b["Id"]))
    times = [datetime.fromisoformat(b["MetaData"]["CreateTime"]) for b in bills]
    assert times == sorted(times)


def test_paid_invoices_were_updated_after_creation(small: Realm) -> None:
    paid = [i for i in small.all("Invoice") if i["LinkedTxn"]]
    assert paid
    for inv in paid:
        meta = inv["MetaData"]
        assert meta["LastUpdatedTime"] > meta["CreateTime"] or inv["SyncToken"] == "0"
        assert inv["SyncToken"] == "1"


# -- shapes ---------------------------------------------------------------------------------

# Sample keys a record may legitimately lack (free-text and optional fields).
OPTIONAL = {
    "PrivateNote",
    "DocNumber",
    "ClassRef",
    "PurchaseEx",
    "Description",
    "SubItem",
    "ParentRef",
    "Level",
    "PurchaseDesc",
    "ExpenseAccountRef",
    "IncomeAccountRef",
    "CompanyName",
    "GivenName",
    "FamilyName",
    "PrimaryEmailAddr",
    "HourlyRate",
    "EmployeeRef",
    "VendorRef",
    "CustomerRef",
    "ItemRef",
    "LinkedTxn",
    "Credit",
    "PrintStatus",
    "SalesTermRef",
    "DueDate",
    "PaymentMethodRef",
    "BillAddr",
    "AcctNum",
    "TermRef",
    "TxnSource",
}


@pytest.mark.parametrize(
    ("entity", "sample_name"),
    [
        ("Bill", "bill.read"),
        ("Purchase", "purchase.check"),
        ("Purchase", "purchase.creditcard"),
        ("VendorCredit", "vendorcredit"),
        ("Invoice", "invoice"),
        ("Payment", "payment"),
        ("TimeActivity", "timeactivity"),
        ("Item", "item"),
        ("Customer", "customer"),
        ("Customer", "customer.project"),
        ("Vendor", "vendor"),
        ("Employee", "employee"),
        ("Account", "account"),
        ("Class", "class"),
        ("Term", "term"),
        ("CompanyInfo", "companyinfo"),
        ("Preferences", "preferences"),
    ],
)
def test_records_carry_the_sample_keys(small: Realm, entity: str, sample_name: str) -> None:
    wanted = set(sample(sample_name)) - OPTIONAL
    records = small.all(entity)
    assert records
    for obj in records:
        assert wanted <= set(obj), (entity, obj["Id"], wanted - set(obj))
        assert isinstance(obj["Id"], str)
        assert isinstance(obj["SyncToken"], str)


def test_expense_lines_carry_the_sample_detail_keys(small: Realm) -> None:
    bill = sample("bill.read")
    wanted = {ln["DetailType"]: set(ln[ln["DetailType"]]) - OPTIONAL for ln in bill["Line"]}
    for _, _, line in costed_lines(small):
        assert {"Id", "LineNum", "Amount", "DetailType"} <= set(line)
        assert wanted[line["DetailType"]] <= set(line[line["DetailType"]])


def test_preferences_keep_class_and_customer_tracking_on(small: Realm) -> None:
    prefs = small.get("Preferences", "1")
    assert prefs is not None
    assert prefs["AccountingInfoPrefs"]["ClassTrackingPerTxnLine"] is True
    assert prefs["VendorAndPurchasesPrefs"]["BillableExpenseTracking"] is True
    assert small.get("Term", prefs["SalesFormsPrefs"]["DefaultTerms"]["value"]) is not None
    info = small.get("CompanyInfo", "1")
    assert info is not None
    assert info["DefaultTimeZone"] == "America/Los_Angeles"


# -- the empty company ----------------------------------------------------------------------


def test_empty_seed_has_company_preferences_and_a_minimal_chart() -> None:
    realm = seed.seed_empty(frozen_sandbox(), realm_id="123456789012345")
    assert realm.id == "123456789012345"
    assert realm.get("CompanyInfo", "1") is not None
    assert realm.get("Preferences", "1") is not None
    kinds = {a["AccountType"] for a in realm.all("Account")}
    assert {
        "Bank",
        "Accounts Payable",
        "Accounts Receivable",
        "Income",
        "Cost of Goods Sold",
    } <= kinds
    for entity in (*TRANSACTIONS, "Item", "Vendor", "Customer", "Employee"):
        assert realm.all(entity) == []


# -- over HTTP ------------------------------------------------------------------------------


def test_demo_server_answers_queries_over_http() -> None:
    with SandboxServer(registered_config(), seed="demo") as server:
        realm = server.sandbox.realm(seed.DEMO_REALM_ID)
        api = Api(server, seed.DEMO_REALM_ID, get_token(server, seed.DEMO_REALM_ID))
        counted = api.query("SELECT COUNT(*) FROM Bill")
        assert counted["totalCount"] == len(realm.all("Bill")) > 1000
        found = api.query("SELECT * FROM Vendor WHERE DisplayName = 'O\\'Brien & Sons Electric'")
        assert [v["DisplayName"] for v in found["Vendor"]] == ["O'Brien & Sons Electric"]
        # PaymentType is not confirmed filterable at Intuit: look at a page client-side.
        credits = api.query("SELECT * FROM Purchase MAXRESULTS 1000")["Purchase"]
        assert any(p.get("Credit") is True for p in credits)
        bill = api.get(f"bill/{realm.all('Bill')[0]['Id']}").json()["Bill"]
        assert bill["Line"][0]["Amount"] == float(realm.all("Bill")[0]["Line"][0]["Amount"])
