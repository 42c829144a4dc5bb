"""The demo's journal entries: job-cost reclassifications that leave every other record alone."""

from __future__ import annotations

import copy
import random
from datetime import date
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from sandbox import entities
from sandbox import seed
from sandbox import seed_data
from sandbox.seed_txns import DemoSeeder
from sandbox.state import Realm
from tests.sandbox.test_seed import DEMO_TODAY
from tests.sandbox.test_seed import frozen_sandbox
from tests.sandbox.test_seed import raw_state


@pytest.fixture(scope="module")
def demo() -> Realm:
    return seed.seed_demo(frozen_sandbox())


def without_journal_entries(realm: Realm) -> dict[str, Any]:
    state = raw_state(realm)
    return {
        key: {name: v for name, v in part.items() if name != "JournalEntry"}
        if key != "files"
        else part
        for key, part in state.items()
    }


def debit_lines(je: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        ln["JournalEntryLineDetail"]
        for ln in je["Line"]
        if ln["JournalEntryLineDetail"]["PostingType"] == "Debit"
    ]


def test_journal_entries_change_no_other_record() -> None:
    with_them = seed.seed_demo(frozen_sandbox(), size=0.2, seed=7)
    sb = frozen_sandbox()
    realm = sb.add_realm(seed.DEMO_REALM_ID, seed_data.COMPANY_NAME)
    realm.seeding = True
    DemoSeeder(sb, realm, random.Random(7), 0.2).run()
    realm.seeding = False
    assert with_them.all("JournalEntry")
    assert realm.all("JournalEntry") == []
    assert without_journal_entries(with_them) == without_journal_entries(realm)


def test_one_reclassification_every_four_weeks_of_history(demo: Realm) -> None:
    jes = sorted(demo.all("JournalEntry"), key=lambda je: int(je["Id"]))
    days = [date.fromisoformat(je["TxnDate"]) for je in jes]
    assert len(jes) == 19
    assert days == sorted(days)
    assert {(b - a).days for a, b in zip(days, days[1:], strict=False)} == {28}
    assert days[-1] == DEMO_TODAY - timedelta(days=2)
    assert days[0] >= DEMO_TODAY - timedelta(days=seed.HISTORY_DAYS)
    assert [je["DocNumber"] for je in jes] == [f"JC-{n:03d}" for n in range(1, 20)]
    # Inserted after every other record: their Ids are the newest.
    newest_other = max(
        int(obj["Id"])
        for name, store in demo.store.items()
        if name not in ("JournalEntry", "Attachable")
        for obj in store.values()
    )
    assert int(jes[0]["Id"]) > newest_other


def test_entries_balance_and_total_their_debits(demo: Realm) -> None:
    for je in demo.all("JournalEntry"):
        sides: dict[str, Decimal] = {"Debit": Decimal(0), "Credit": Decimal(0)}
        for line in je["Line"]:
            sides[line["JournalEntryLineDetail"]["PostingType"]] += line["Amount"]
            assert line["Amount"] > 0
            assert line["Amount"].as_tuple().exponent == -2
        assert sides["Debit"] == sides["Credit"] == je["TotalAmt"], je["Id"]


def test_every_debit_names_a_running_job_with_its_class(demo: Realm) -> None:
    classes = {c["Id"]: c["Name"] for c in demo.all("Class")}
    jobs: set[str] = set()
    for je in demo.all("JournalEntry"):
        for detail in debit_lines(je):
            entity = detail["Entity"]
            assert entity["Type"] == "Customer"
            customer = demo.get("Customer", entity["EntityRef"]["value"])
            assert customer is not None
            assert customer["Job"] is True
            assert entity["EntityRef"]["name"] == customer["FullyQualifiedName"]
            assert classes[detail["ClassRef"]["value"]] == detail["ClassRef"]["name"]
            account = demo.get("Account", detail["AccountRef"]["value"])
            assert account is not None
            assert account["AccountType"] == "Cost of Goods Sold"
            jobs.add(customer["Id"])
        for line in je["Line"]:
            detail = line["JournalEntryLineDetail"]
            if detail["PostingType"] == "Credit":
                assert "Entity" not in detail
    assert len(jobs) >= 10


def test_seeded_entries_pass_the_api_rules(demo: Realm) -> None:
    spec = entities.ENTITIES["JournalEntry"]
    for je in demo.all("JournalEntry"):
        prepared = entities.prepare(demo, spec, copy.deepcopy(je), je)
        assert prepared["TotalAmt"] == je["TotalAmt"]
        assert prepared["Line"] == je["Line"]
