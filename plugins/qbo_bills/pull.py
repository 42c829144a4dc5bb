"""Bills pulled as actuals: every expense line, positive, with its customer and cost code."""

from __future__ import annotations

from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import QboRecord
from core.sync.lines import expense_lines


def lines(record: QboRecord, lookups: Lookups) -> list[CandidateLine]:
    """Each account- or item-based line of a Bill as a `bill` actual."""
    return expense_lines(record, lookups, actual_type="bill")
