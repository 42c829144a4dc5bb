"""Vendor credits pulled as negative actuals, only where the project turns them on."""

from __future__ import annotations

from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import QboRecord
from core.sync.lines import VENDOR_CREDITS_OFF
from core.sync.lines import expense_lines


def lines(record: QboRecord, lookups: Lookups) -> list[CandidateLine]:
    """Each expense line of a VendorCredit, negative, left out unless vendor credits are on."""
    return expense_lines(
        record, lookups, actual_type="vendor_credit", sign=-1, exclusions=(VENDOR_CREDITS_OFF,)
    )
