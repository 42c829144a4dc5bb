"""Where a QBO Bill becomes actuals: every expense line, positive, with its customer and code.

Each account- or item-based line of a Bill is one `bill` actual for the project linked to the
line's customer (DESIGN.md, "What becomes an actual"). A line QBO marks not billable is left out
where the project excludes non-billable bills and expenses. The shared reading of lines (cents,
currency, payee, cost code of the item) is the public toolkit `core.mapping.lines`.
"""

from __future__ import annotations

from core.contracts import ActualTypeSpec
from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import QboRecord
from core.mapping.lines import expense_lines

BILL = ActualTypeSpec("bill", "Bill", sign=1)
ACTUAL_TYPES = (BILL,)


def lines(record: QboRecord, lookups: Lookups) -> list[CandidateLine]:
    """Each account- or item-based line of a Bill as a `bill` actual."""
    return expense_lines(record, lookups, actual_type=BILL.name, sign=BILL.sign)
