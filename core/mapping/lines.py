"""Reading pulled QBO records into candidate actual lines: the helpers several pull mappers share.

Public and stable for third-party plugins. Pure: nothing here touches a database, the network or
the clock, and nothing names a plugin's settings or actual types; a mapper passes its own type,
sign and exclusions in. The one exclusion defined here, `NON_BILLABLE`, is the core's own
setting (`core.core_settings`), which governs every expense-like line whoever maps it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping
from decimal import ROUND_HALF_UP
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from core.contracts import CandidateLine
from core.contracts import Exclusion
from core.contracts import Lookups
from core.contracts import QboRecord
from core.contracts import Ref

CENT = Decimal("0.01")
#: The `DetailType`s of a Bill's, Purchase's or VendorCredit's cost lines.
EXPENSE_DETAILS = ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")

#: Lines QBO marks not billable, when the project says to leave them out (a core setting).
NON_BILLABLE = Exclusion(
    "exclude_non_billable",
    True,
    "marked not billable in QuickBooks, and this project excludes non-billable bills and expenses",
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


def text(value: object) -> str | None:
    """A QBO value as text; None when absent."""
    return None if value is None else str(value)


def txn_date(record: QboRecord) -> dt.date:
    """The record's `TxnDate` (the company's local date); its creation date when absent."""
    raw = record.data.get("TxnDate")
    if isinstance(raw, str) and raw:
        return dt.date.fromisoformat(raw[:10])
    created = (record.data.get("MetaData") or {}).get("CreateTime", "")
    return dt.date.fromisoformat(str(created)[:10])


def currency(record: QboRecord, lookups: Lookups) -> tuple[str, Decimal | None, tuple[str, ...]]:
    """The record's currency, its rate to the home currency and any problem with it.

    Returns:
        `(code, rate, flags)`: rate None means the record is in the home currency; with a
        foreign currency and no usable `ExchangeRate` the rate is None and the flags hold
        `no_exchange_rate` (amounts are then kept as QBO gave them, for an admin to see).
    """
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


def line_id(line: Mapping[str, Any], position: int) -> str:
    """A line's QBO `Id`, else its `LineNum`, else its 1-based position in the record."""
    return str(line.get("Id") or line.get("LineNum") or position)


def billable_exclusions(billable: str | None) -> tuple[Exclusion, ...]:
    """`NON_BILLABLE` for a line QBO marks `NotBillable`; nothing otherwise."""
    return (NON_BILLABLE,) if billable == "NotBillable" else ()


def expense_lines(
    record: QboRecord,
    lookups: Lookups,
    *,
    actual_type: str,
    sign: int = 1,
    exclusions: Iterable[Exclusion] = (),
) -> list[CandidateLine]:
    """Candidate lines for each account- or item-based expense line of a record.

    Args:
        record: A Bill, Purchase or VendorCredit (any record with expense lines).
        lookups: The realm's read-only facts.
        actual_type: The actual type every line of this record gets (one the plugin declares).
        sign: -1 for credits (the amount is stored negative).
        exclusions: Settings that leave every line of this record out; `NON_BILLABLE` is added
            per line where QBO says the line is not billable.

    Returns:
        One line per expense line, in the record's order; other lines (subtotals, ...) are
        skipped.
    """
    code, rate, flags = currency(record, lookups)
    common: dict[str, Any] = {
        "txn_date": txn_date(record),
        "payee": payee_of(record),
        "doc_number": text(record.data.get("DocNumber")),
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
        billable = text(detail.get("BillableStatus"))
        item = Ref.of(detail.get("ItemRef"))
        customer = Ref.of(detail.get("CustomerRef"))
        lines.append(
            CandidateLine(
                line_id=line_id(line, len(lines) + 1),
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
                description=text(line.get("Description")),
                exclusions=record_exclusions + billable_exclusions(billable),
                **common,
            )
        )
    return lines
