"""Time charges pulled as actuals: hours × cost rate, counted by billable status.

A TimeActivity has no lines: it is one actual (line id "0"). Billable time counts; time QBO
marks already billed or not billable counts only where the project's toggles say so.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.contracts import ActualTypeSpec
from core.contracts import CandidateLine
from core.contracts import Exclusion
from core.contracts import Lookups
from core.contracts import QboRecord
from core.mapping.lines import cents
from core.mapping.lines import decimal
from core.mapping.lines import payee_of
from core.mapping.lines import text
from core.mapping.lines import txn_date

TIME = ActualTypeSpec("time", "Time")
ACTUAL_TYPES = (TIME,)
TIME_LINE_ID = "0"

BILLED_TIME_OFF = Exclusion(
    "include_billed_time",
    False,
    "time QuickBooks marks as already billed, and this project does not include billed time",
)
NON_BILLABLE_TIME_OFF = Exclusion(
    "include_non_billable_time",
    False,
    "time QuickBooks marks as not billable, and this project does not include non-billable time",
)
BY_BILLABLE_STATUS = {"HasBeenBilled": (BILLED_TIME_OFF,), "NotBillable": (NON_BILLABLE_TIME_OFF,)}


def lines(record: QboRecord, lookups: Lookups) -> list[CandidateLine]:
    """The one line of a TimeActivity (billable counts; billed and non-billable by toggle)."""
    return [time_line(record, lookups)]


def hours_worked(record: QboRecord) -> Decimal:
    """Hours of a TimeActivity: Hours + Minutes (+ Seconds), else end − start − break."""
    return seconds_worked(record) / 3600


def seconds_worked(record: QboRecord) -> Decimal:
    """Seconds of a TimeActivity, exact (hours as a fraction would round 1/3 h, 1/12 h, ...)."""
    data = record.data
    if data.get("Hours") is not None or data.get("Minutes") is not None:
        return (
            (decimal(data.get("Hours")) or Decimal(0)) * 3600
            + (decimal(data.get("Minutes")) or Decimal(0)) * 60
            + (decimal(data.get("Seconds")) or Decimal(0))
        )
    start, end = data.get("StartTime"), data.get("EndTime")
    if not (isinstance(start, str) and isinstance(end, str)):
        return Decimal(0)
    span = dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)
    seconds = Decimal(int(span.total_seconds()))
    breaks = (decimal(data.get("BreakHours")) or Decimal(0)) * 3600 + (
        decimal(data.get("BreakMinutes")) or Decimal(0)
    ) * 60
    return max(seconds - breaks, Decimal(0))


def time_line(record: QboRecord, lookups: Lookups) -> CandidateLine:
    """The one candidate line of a TimeActivity: hours × cost rate, in the home currency.

    The rate is the TimeActivity's own `CostRate`, else the employee's or vendor's; with none
    anywhere the hours count at 0 and the line is flagged `no_cost_rate`.
    """
    seconds = seconds_worked(record)
    worker = record.ref("EmployeeRef") or record.ref("VendorRef")
    rates = lookups.employee_cost_rates if record.ref("EmployeeRef") else lookups.vendor_cost_rates
    rate = decimal(record.data.get("CostRate"))
    if rate is None and worker is not None:
        rate = rates.get(worker.value)
    billable = text(record.data.get("BillableStatus")) or "NotBillable"
    customer = record.ref("CustomerRef")
    item = record.ref("ItemRef")
    return CandidateLine(
        line_id=TIME_LINE_ID,
        customer_id=customer.value if customer else None,
        customer_name=customer.name if customer else None,
        actual_type=TIME.name,
        # Divide last: seconds × rate is exact, so the one rounding sees the true half cent.
        amount=cents(seconds * (rate or Decimal(0)) / 3600),
        txn_date=txn_date(record),
        hours=cents(seconds / 3600),
        cost_rate=rate,
        billable_status=billable,
        item=item,
        cost_code_id=lookups.item_cost_codes.get(item.value) if item else None,
        klass=record.ref("ClassRef"),
        location=record.ref("DepartmentRef"),
        payee=payee_of(record),
        description=text(record.data.get("Description")),
        currency=lookups.home_currency,
        exclusions=BY_BILLABLE_STATUS.get(billable, ()),
        flags=() if rate is not None else ("no_cost_rate",),
    )
