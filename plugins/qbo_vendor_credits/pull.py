"""Vendor credits pulled as negative actuals, only where the project turns them on."""

from __future__ import annotations

from core.contracts import ActualTypeSpec
from core.contracts import CandidateLine
from core.contracts import Exclusion
from core.contracts import Lookups
from core.contracts import QboRecord
from core.mapping.lines import expense_lines

VENDOR_CREDIT = ActualTypeSpec("vendor_credit", "Vendor credit", sign=-1)
ACTUAL_TYPES = (VENDOR_CREDIT,)

#: Every line of a VendorCredit while the project's "Vendor credits" toggle is off (the default).
VENDOR_CREDITS_OFF = Exclusion(
    "vendor_credits", False, "a vendor credit, and vendor credits are turned off for this project"
)


def lines(record: QboRecord, lookups: Lookups) -> list[CandidateLine]:
    """Each expense line of a VendorCredit, negative, left out unless vendor credits are on."""
    return expense_lines(
        record,
        lookups,
        actual_type=VENDOR_CREDIT.name,
        sign=VENDOR_CREDIT.sign,
        exclusions=(VENDOR_CREDITS_OFF,),
    )
