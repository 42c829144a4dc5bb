"""Purchases pulled as actuals, typed by how they were paid (DESIGN.md's table).

A card credit (`Credit: true`) is negative. A purchase entered from a bank feed is a bank
transaction; QBO documents no marker for it, so the sandbox and this mapper agree on
`TxnSource: "BankFeed"` (docs/sandbox-internals.md).
"""

from __future__ import annotations

from core.contracts import ActualTypeSpec
from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import QboRecord
from core.mapping.lines import expense_lines

EXPENSE = ActualTypeSpec("expense", "Expense")
CHECK = ActualTypeSpec("check", "Check")
CREDIT_CARD = ActualTypeSpec("credit_card", "Credit card")
CREDIT_CARD_CREDIT = ActualTypeSpec("credit_card_credit", "Credit card credit", sign=-1)
BANK_TRANSACTION = ActualTypeSpec("bank_transaction", "Bank transaction")
ACTUAL_TYPES = (EXPENSE, CHECK, CREDIT_CARD, CREDIT_CARD_CREDIT, BANK_TRANSACTION)

BANK_FEED = "BankFeed"
BY_PAYMENT_TYPE = {"Cash": EXPENSE, "Check": CHECK, "CreditCard": CREDIT_CARD}


def kind(record: QboRecord) -> ActualTypeSpec:
    """The actual type (with its sign) of a Purchase."""
    if record.data.get("PaymentType") == "CreditCard" and record.data.get("Credit") is True:
        return CREDIT_CARD_CREDIT
    if record.data.get("TxnSource") == BANK_FEED:
        return BANK_TRANSACTION
    return BY_PAYMENT_TYPE.get(str(record.data.get("PaymentType")), EXPENSE)


def lines(record: QboRecord, lookups: Lookups) -> list[CandidateLine]:
    """Each expense line of a Purchase, with the purchase's type and sign."""
    spec = kind(record)
    return expense_lines(record, lookups, actual_type=spec.name, sign=spec.sign)
