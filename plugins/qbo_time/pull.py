"""Time charges pulled as actuals: hours × cost rate, by billable status."""

from __future__ import annotations

from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import QboRecord
from core.sync.lines import time_line


def lines(record: QboRecord, lookups: Lookups) -> list[CandidateLine]:
    """The one line of a TimeActivity (billable counts; billed and non-billable by toggle)."""
    return [time_line(record, lookups)]
