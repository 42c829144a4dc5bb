"""Pure helpers every pull mapper shares: expense lines, currency, billable status, time.

Plugins call these so that a plugin folder holds only what is particular to its entity. Nothing
here touches a database, the network or the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping
from decimal import ROUND_HALF_UP
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from core.contracts import ActualTypeName
from core.contracts import CandidateLine
from core.contracts import Exclusion
from core.contracts import Lookups
from core.contracts import QboRecord
from core.contracts import Ref

CENT = Decimal("0.01")
EXPENSE_DETAILS = ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")
TIME_LINE_ID = "0"

#: Bill and expense lines QBO marks not billable, when the project says to leave them out.
NON_BILLABLE = Exclusion(
    "exclude_non_billable",
    True,
    "marked not billable in QuickBooks, and this project excludes non-billable bills and expenses",
)
VENDOR_CREDITS_OFF = Exclusion(
    "vendor_credits", False, "a vendor credit, and vendor credits are turned off for this project"
)
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


def cents(value: Decimal) -> Decimal:
    """Round to cents, half up (the one rounding an actual gets)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def decimal(value: object) -> Decimal | None:
    """A QBO number as an exact `Decimal`; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def txn_date(record: QboRecord) -> dt.date:
    """The record's `TxnDate` (the company's local date); its creation date when absent."""
    raw = record.data.get("TxnDate")
    if isinstance(raw, str) and raw:
        return dt.date.fromisoformat(raw[:10])
    created = (record.data.get("MetaData") or {}).get("CreateTime", "")
    return dt.date.fromisoformat(str(created)[:10])


def currency(record: QboRecord, lookups: Lookups) -> tuple[str, Decimal | None, tuple[str, ...]]:
    """The record's currency, its rate to the home currency and any problem with it."""
    ref = record.ref("CurrencyRef")
    code = ref.value if ref else lookups.home_currency
    if code == lookups.home_currency:
        return code, None, ()
    rate = decimal(record.data.get("ExchangeRate"))
    if rate is None or rate <= 0:
        return code, None, ("no_exchange_rate",)
    return code, rate, ()


def in_home_currency(amount: Decimal, rate: Decimal | None) -> Decimal:
    """`amount` converted with `rate` (None: already home currency), rounded once to cents."""
    return cents(amount * rate if rate is not None else amount)


def payee_of(record: QboRecord) -> str | None:
    """Who was paid: the vendor of a bill or credit, the payee of a purchase, the worker."""
    for key in ("VendorRef", "EntityRef", "EmployeeRef"):
        ref = record.ref(key)
        if ref is not None:
            return ref.name or ref.value
    return None


def expense_lines(
    record: QboRecord,
    lookups: Lookups,
    *,
    actual_type: ActualTypeName,
    sign: int = 1,
    exclusions: Iterable[Exclusion] = (),
) -> list[CandidateLine]:
    """Candidate lines for each account- or item-based expense line of a record.

    Args:
        record: A Bill, Purchase or VendorCredit.
        lookups: The realm's read-only facts.
        actual_type: The actual type every line of this record gets.
        sign: -1 for credits (the amount is stored negative).
        exclusions: Settings that leave every line of this record out; "not billable" is added
            per line where QBO says so.
    """
    code, rate, flags = currency(record, lookups)
    common: dict[str, Any] = {
        "txn_date": txn_date(record),
        "payee": payee_of(record),
        "doc_number": _text(record.data.get("DocNumber")),
        "location": record.ref("DepartmentRef"),
        "currency": code,
        "exchange_rate": rate,
        "flags": flags,
    }
    record_exclusions = tuple(exclusions)
    lines: list[CandidateLine] = []
    for line in record.lines():
        kind = line.get("DetailType")
        detail = line.get(str(kind))
        if kind not in EXPENSE_DETAILS or not isinstance(detail, Mapping):
            continue
        amount = decimal(line.get("Amount")) or Decimal(0)
        billable = _text(detail.get("BillableStatus"))
        item = Ref.of(detail.get("ItemRef"))
        customer = Ref.of(detail.get("CustomerRef"))
        lines.append(
            CandidateLine(
                line_id=str(line.get("Id") or line.get("LineNum") or len(lines) + 1),
                customer_id=customer.value if customer else None,
                customer_name=customer.name if customer else None,
                actual_type=actual_type,
                amount=sign * in_home_currency(amount, rate),
                original_amount=sign * amount if rate is not None else None,
                billable_status=billable,
                item=item,
                cost_code_id=lookups.item_cost_codes.get(item.value) if item else None,
                account=Ref.of(detail.get("AccountRef")),
                klass=Ref.of(detail.get("ClassRef")),
                description=_text(line.get("Description")),
                exclusions=record_exclusions + _billable_exclusions(billable),
                **common,
            )
        )
    return lines


def _billable_exclusions(billable: str | None) -> tuple[Exclusion, ...]:
    return (NON_BILLABLE,) if billable == "NotBillable" else ()


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
    billable = _text(record.data.get("BillableStatus")) or "NotBillable"
    exclusions = {
        "HasBeenBilled": (BILLED_TIME_OFF,),
        "NotBillable": (NON_BILLABLE_TIME_OFF,),
    }.get(billable, ())
    customer = record.ref("CustomerRef")
    item = record.ref("ItemRef")
    return CandidateLine(
        line_id=TIME_LINE_ID,
        customer_id=customer.value if customer else None,
        customer_name=customer.name if customer else None,
        actual_type="time",
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
        description=_text(record.data.get("Description")),
        currency=lookups.home_currency,
        exclusions=exclusions,
        flags=() if rate is not None else ("no_cost_rate",),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
