"""Seconds for `Realm.insert` (the seed path) to store 100,000 Bill lines (target: under 20 s).

Moved from the test suite: a timing is a figure to watch on a known machine, not a test that
fails on a busy one.
"""

from __future__ import annotations

import time
from decimal import Decimal

from sandbox.state import Sandbox

BILLS = 10_000
LINES_PER_BILL = 10
TARGET_SECONDS = 20.0


def main() -> None:
    """Insert BILLS bills of LINES_PER_BILL lines into a fresh realm and print the rate."""
    realm = Sandbox().add_realm("1")
    line = {
        "Amount": Decimal("12.50"),
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "1", "name": "X"}},
    }
    started = time.perf_counter()
    for _ in range(BILLS):
        realm.insert(
            "Bill",
            {
                "VendorRef": {"value": "2"},
                "TxnDate": "2026-01-01",
                "Line": [dict(line) for _ in range(LINES_PER_BILL)],
            },
        )
    seconds = time.perf_counter() - started
    lines = BILLS * LINES_PER_BILL
    stored = len(realm.store["Bill"])
    print(
        f"   {lines:,} lines in {stored:,} bills: {seconds:.2f} s ({lines / seconds:,.0f} lines/s)"
    )
    if stored != BILLS:
        print(f"   WARNING: {stored:,} bills stored, expected {BILLS:,}")
    if seconds > TARGET_SECONDS:
        print(f"   WARNING: slower than the {TARGET_SECONDS:.0f} s target")
