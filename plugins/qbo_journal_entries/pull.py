"""Where a QBO JournalEntry becomes actuals: its lines posted to a job.

A journal entry moves amounts between accounts; a line names a job when its
`JournalEntryLineDetail.Entity` is a Customer (the customer, sub-customer or project linked to a
costbridge project). The rules:

- A **Debit** line to a customer is a cost of that job: a `journal_entry` actual, positive.
- A **Credit** line to a customer takes cost away: a `journal_entry_credit` actual, negative.
- A line with no entity, or one naming a Vendor or Employee (the A/P and payroll side of the
  entry), is kept with no customer, like any mapper's line that counts for no project, so an
  admin can see it was read; it counts nowhere.
- A JournalEntry has no items, so every line lands in the project's Uncoded row; its account,
  class, department (location) and description are kept.
- QBO's JournalEntry does not say an account's type, and an Accounts Receivable line must name
  a customer: a receivable posted to the job by journal entry would count as cost. The plugin
  cannot tell it apart, so nothing counts until the project turns "Count journal entries" on
  (its help text says so); it is off by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from core.contracts import ActualTypeSpec
from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import QboRecord
from core.contracts import Ref
from core.mapping.lines import currency
from core.mapping.lines import decimal
from core.mapping.lines import in_home_currency
from core.mapping.lines import line_id
from core.mapping.lines import text
from core.mapping.lines import txn_date
from plugins.qbo_journal_entries.settings import NOT_COUNTED

JOURNAL_ENTRY = ActualTypeSpec("journal_entry", "Journal entry", sign=1)
JOURNAL_ENTRY_CREDIT = ActualTypeSpec("journal_entry_credit", "Journal entry credit", sign=-1)
ACTUAL_TYPES = (JOURNAL_ENTRY, JOURNAL_ENTRY_CREDIT)
BY_POSTING = {"Debit": JOURNAL_ENTRY, "Credit": JOURNAL_ENTRY_CREDIT}
DETAIL = "JournalEntryLineDetail"


def lines(record: QboRecord, lookups: Lookups) -> list[CandidateLine]:
    """Each debit or credit line of a JournalEntry, signed, with the customer it names."""
    code, rate, flags = currency(record, lookups)
    date = txn_date(record)
    doc_number = text(record.data.get("DocNumber"))
    out: list[CandidateLine] = []
    for position, line in enumerate(record.lines(), 1):
        detail = line.get(DETAIL)
        if line.get("DetailType") != DETAIL or not isinstance(detail, Mapping):
            continue
        spec = BY_POSTING.get(str(detail.get("PostingType")))
        if spec is None:
            continue  # QBO requires PostingType; a line without one moves nothing
        amount = decimal(line.get("Amount")) or Decimal(0)
        customer, payee = _entity(detail.get("Entity"))
        out.append(
            CandidateLine(
                line_id=line_id(line, position),
                customer_id=customer.value if customer else None,
                customer_name=customer.name if customer else None,
                actual_type=spec.name,
                amount=spec.sign * in_home_currency(amount, rate),
                original_amount=spec.sign * amount if rate is not None else None,
                txn_date=date,
                billable_status=text(detail.get("BillableStatus")),
                account=Ref.of(detail.get("AccountRef")),
                klass=Ref.of(detail.get("ClassRef")),
                location=Ref.of(detail.get("DepartmentRef")),
                payee=payee,
                doc_number=doc_number,
                description=text(line.get("Description")),
                currency=code,
                exchange_rate=rate,
                exclusions=(NOT_COUNTED,),
                flags=flags,
            )
        )
    return out


def _entity(raw: Any) -> tuple[Ref | None, str | None]:
    """The customer a line names (None for a vendor, an employee or nobody), and its payee.

    QBO writes `{"Type": "Customer", "EntityRef": {"value": "58", "name": "..."}}`.
    """
    if not isinstance(raw, Mapping):
        return None, None
    ref = Ref.of(raw.get("EntityRef"))
    if ref is None:
        return None, None
    if raw.get("Type") == "Customer":
        return ref, None
    return None, ref.name or ref.value
