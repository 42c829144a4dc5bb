"""Purchases pulled as actuals, typed by how they were paid (DESIGN.md's table).

A card credit (`Credit: true`) is negative. A purchase entered from a bank feed is a bank
transaction; QBO documents no marker for it, so the sandbox and this mapper agree on
`TxnSource: "BankFeed"` (docs/sandbox-internals.md).
"""

from __future__ import annotations

from core.contracts import ActualTypeName
from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import QboRecord
from core.sync.lines import expense_lines

BANK_FEED = "BankFeed"
BY_PAYMENT_TYPE: dict[str, ActualTypeName] = {
    "Cash": "expense",
    "Check": "check",
    "CreditCard": "credit_card",
}


def kind(record: QboRecord) -> tuple[ActualTypeName, int]:
    """The actual type and sign of a Purchase."""
    if record.data.get("PaymentType") == "CreditCard" and record.data.get("Credit") is True:
        return "credit_card_credit", -1
    if record.data.get("TxnSource") == BANK_FEED:
        return "bank_transaction", 1
    return BY_PAYMENT_TYPE.get(str(record.data.get("PaymentType")), "expense"), 1


def lines(record: QboRecord, lookups: Lookups) -> list[CandidateLine]:
    """Each expense line of a Purchase, with the purchase's type and sign."""
    actual_type, sign = kind(record)
    return expense_lines(record, lookups, actual_type=actual_type, sign=sign)
