"""Realm.insert is the seed path: 100,000 transaction lines well under a minute."""

from __future__ import annotations

import time
from decimal import Decimal

from sandbox.state import Sandbox


def test_insert_100k_lines_is_fast() -> None:
    sb = Sandbox()
    realm = sb.add_realm("1")
    line = {
        "Amount": Decimal("12.50"),
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "1", "name": "X"}},
    }
    started = time.perf_counter()
    for _ in range(10_000):
        realm.insert(
            "Bill",
            {
                "VendorRef": {"value": "2"},
                "TxnDate": "2026-01-01",
                "Line": [dict(line) for _ in range(10)],
            },
        )
    elapsed = time.perf_counter() - started
    assert len(realm.store["Bill"]) == 10_000
    stored = realm.store["Bill"]["5000"]
    assert stored["TotalAmt"] == Decimal("125.00")
    assert stored["Line"][9]["LineNum"] == 10
    assert elapsed < 20, elapsed
