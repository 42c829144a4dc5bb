"""Rules of the JournalEntry entity: debit and credit lines that must balance.

What the sandbox enforces, and on what authority (``docs/sandbox-internals.md`` keeps the table):

* Each line is ``DetailType: "JournalEntryLineDetail"`` with a ``JournalEntryLineDetail`` holding
  ``PostingType`` (``Debit`` or ``Credit``, the XSD's ``PostingTypeEnum``) and an ``AccountRef``
  (XSD ``JournalEntryLineDetail``).
* Total debits equal total credits: the XSD's own description of ``JournalEntry`` ("The total of
  the debits must equal the total of the credits"). The Fault Intuit answers is not in API.md or
  the docs available offline: 6000 business validation, wording **unconfirmed**.
* A line may name a ``Customer``, ``Vendor`` or ``Employee`` in ``Entity`` (XSD ``EntityTypeRef``:
  ``{"Type", "EntityRef"}``): a job-cost line names the customer or job it is for.
* A line on an Accounts Receivable account names a Customer, one on Accounts Payable a Vendor
  (stated for QuickBooks Desktop by Conductor's docs, followed by QBO integrators; QBO's
  enforcement, the 6000 and its wording **unconfirmed**).
* ``TotalAmt`` is computed: the sum of the debit lines (unconfirmed which side QBO sums; both
  are equal on a stored entry). ``Adjustment`` is a boolean, false by default.
* Amounts are not negative (unconfirmed; Intuit's Desktop reference says never to sign them).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sandbox import faults
from sandbox.fields import as_bool
from sandbox.fields import list_field
from sandbox.fields import require
from sandbox.fields import resolve
from sandbox.fields import to_decimal
from sandbox.txn_rules import line_ids
from sandbox.txn_rules import txn_common

if TYPE_CHECKING:
    from sandbox.state import Realm

DETAIL = "JournalEntryLineDetail"
POSTING_TYPES = ("Debit", "Credit")
ENTITY_TYPES = ("Customer", "Vendor", "Employee")
#: Account types whose lines must name an entity of one type (A/R a customer, A/P a vendor).
ENTITY_FOR_ACCOUNT = {"Accounts Receivable": "Customer", "Accounts Payable": "Vendor"}
_BILLABLE = ("Billable", "NotBillable")
_ZERO = Decimal("0")
_ELEMENT = f"Line.{DETAIL}"


def journal_entry(
    realm: Realm, obj: dict[str, Any], existing: dict[str, Any] | None, entity: str
) -> None:
    """JournalEntry: validate the lines in place, check the balance, compute ``TotalAmt``."""
    del entity
    for ro in ("TotalAmt", "HomeTotalAmt"):
        obj.pop(ro, None)
    txn_common(obj, realm)
    obj.pop("DueDate", None)
    as_bool(obj, "Adjustment", False)
    lines = list_field(obj, "Line")
    if not lines:
        raise faults.required_field("Line")
    billed = {
        str(old.get("Id"))
        for old in (existing or {}).get("Line", [])
        if isinstance(old.get(DETAIL), dict)
        and old[DETAIL].get("BillableStatus") == "HasBeenBilled"
    }
    totals = {"Debit": _ZERO, "Credit": _ZERO}
    for line in lines:
        posting, amount = _line(realm, line, str(line.get("Id")) in billed)
        totals[posting] += amount
    if totals["Debit"] != totals["Credit"]:
        raise faults.business_validation(
            "The journal entry is out of balance: its debits total "
            f"{totals['Debit']:.2f} and its credits total {totals['Credit']:.2f}. "
            "Total debits must equal total credits.",
            "Line",
        )
    line_ids(lines, existing)
    obj["TotalAmt"] = totals["Debit"]


def _line(realm: Realm, line: dict[str, Any], was_billed: bool) -> tuple[str, Decimal]:
    """Validate one line in place; return its posting type and amount."""
    kind = require(line, "DetailType", "Line.DetailType")
    if kind != DETAIL:
        raise faults.invalid_enum(str(kind), "Line.DetailType")
    detail = require(line, DETAIL, _ELEMENT)
    if not isinstance(detail, dict):
        raise faults.invalid_field(_ELEMENT, f"{_ELEMENT} must be an object")
    amount = to_decimal(require(line, "Amount", "Line.Amount"), "Line.Amount")
    if amount < 0:
        raise faults.business_validation(
            "A journal entry line amount cannot be negative: post it on the other side.",
            "Line.Amount",
        )
    line["Amount"] = amount
    posting = require(detail, "PostingType", f"{_ELEMENT}.PostingType")
    if posting not in POSTING_TYPES:
        raise faults.invalid_enum(str(posting), f"{_ELEMENT}.PostingType")
    account = resolve(
        realm,
        require(detail, "AccountRef", f"{_ELEMENT}.AccountRef"),
        "Account",
        f"{_ELEMENT}.AccountRef",
    )
    entity_type = _entity(realm, detail)
    wanted = ENTITY_FOR_ACCOUNT.get(str(account.get("AccountType")))
    if wanted is not None and entity_type != wanted:
        raise faults.business_validation(
            f"A line on an {account.get('AccountType')} account must name a {wanted.lower()} "
            "in its Entity.",
            f"{_ELEMENT}.Entity",
        )
    _billable(detail, was_billed)
    return str(posting), amount


def _entity(realm: Realm, detail: dict[str, Any]) -> str | None:
    """Check the line's ``Entity`` (customer, vendor or employee); return its type or None."""
    element = f"{_ELEMENT}.Entity"
    value = detail.get("Entity")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise faults.invalid_field(element, f"{element} must be an object")
    if not value:
        # An object-model client's unset Entity (§13: empty values are "not set").
        del detail["Entity"]
        return None
    kind = require(value, "Type", f"{element}.Type")
    if kind not in ENTITY_TYPES:
        raise faults.invalid_enum(str(kind), f"{element}.Type")
    resolve(
        realm, require(value, "EntityRef", f"{element}.EntityRef"), kind, f"{element}.EntityRef"
    )
    return str(kind)


def _billable(detail: dict[str, Any], was_billed: bool) -> None:
    """``BillableStatus`` when sent: Billable or NotBillable; only QBO sets HasBeenBilled."""
    status = detail.get("BillableStatus")
    if status is None or (status == "HasBeenBilled" and was_billed):
        return
    where = f"{_ELEMENT}.BillableStatus"
    if status == "HasBeenBilled":
        raise faults.invalid_enum("HAS_BEEN_BILLED", where)
    if status not in _BILLABLE:
        raise faults.invalid_enum(str(status), where)
