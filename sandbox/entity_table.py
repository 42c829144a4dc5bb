"""One rules table per entity the sandbox serves beyond its hand-written core (issue 23).

Each ``Rules`` row says what Intuit's API does with one entity: which operations it takes,
what a write must carry, which names are unique, which enumerations it checks, how totals are
computed, which fields a query may filter on and whether CDC returns it. The field list itself
comes from the XSD (``schema_fields.py``); ``entities.table_rule`` applies a row to a write.
No entity here has a module of its own.

``docs/sandbox-internals.md`` ("Entities served", "Issue 23") names, per row, what Intuit's
documentation states and what is our reading (always the stricter one when unconfirmed).
This module holds data only: it imports nothing of the sandbox but the field list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Final

# Operations a row may list (create and read are implied unless ``read_only``).
UPDATE: Final = "update"
DELETE: Final = "delete"
VOID: Final = "void"
SEND: Final = "send"
PDF: Final = "pdf"

_COMMON = ("Id", "MetaData.CreateTime", "MetaData.LastUpdatedTime")
_TXN = (*_COMMON, "TxnDate", "DocNumber", "TotalAmt")


@dataclass(frozen=True)
class Rules:
    """What Intuit does with one entity, as data.

    Attributes:
        name: Canonical entity name (URL segment is its lower case).
        kind: ``name`` (a list: inactivate, never delete), ``txn`` (a transaction),
            ``list`` (read and query only: Intuit creates them), ``rate`` (ExchangeRate:
            keyed by currency and date, no Id) or ``recurring`` (a template wrapping a
            transaction). The last two have endpoints of their own.
        ops: Operations besides create/read: ``update``, ``delete``, ``void``, ``send``, ``pdf``.
        creatable: Whether ``POST /<entity>`` may create one.
        required: Top-level fields a write must carry (2020 when missing).
        name_field: The unique name (no colon, 2050 when empty or too long; 6240 duplicate).
        sub_flag: Hierarchy flag beside ``ParentRef`` (``SubDepartment``): the name is then
            unique by its full path and ``FullyQualifiedName`` follows the parents.
        enums: (field, allowed values): anything else is 2170 Invalid Enumeration.
        defaults: (field, value) set when a write leaves the field out.
        bools: Boolean fields (``"true"`` strings are read; anything else is 2010).
        numbers: Number fields read as Decimal (2010 when not numbers).
        lines: ``sales``, ``expense`` or ``deposit``: which line rules the ``Line`` list
            follows, and ``TotalAmt`` is their total. None: no lines.
        amount: A single required positive amount (Transfer, CreditCardPayment).
        balance: ``Balance`` = ``TotalAmt`` (an open credit, an unbilled estimate is not one).
        readonly: Fields Intuit computes; a write's values are ignored.
        refs: (field, entity) references checked on write (2500 unknown, 610 inactive).
        filterable: What a query WHERE may name (ORDERBY: the names and dates among them).
        cdc: Whether ``/cdc`` returns it.
        active_default: A query without an ``Active`` condition returns active ones only.
        json_key: The key of the object in answers when it is not the name.
        xsd_type: The XSD type when it is not the name.
        distinct: (field, other field) that must differ (a transfer between two accounts).
        account_types: (ref field, allowed AccountTypes): 6000 for an account of another type.
    """

    name: str
    kind: str
    ops: frozenset[str] = frozenset({UPDATE})
    creatable: bool = True
    required: tuple[str, ...] = ()
    name_field: str | None = None
    sub_flag: str | None = None
    enums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()
    bools: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    lines: str | None = None
    amount: str | None = None
    balance: bool = False
    readonly: tuple[str, ...] = ()
    refs: tuple[tuple[str, str], ...] = ()
    filterable: tuple[str, ...] = _COMMON
    cdc: bool = True
    active_default: bool = False
    json_key: str | None = None
    xsd_type: str | None = None
    distinct: tuple[str, str] | None = None
    account_types: tuple[tuple[str, tuple[str, ...]], ...] = ()


_SALES_FORM = (
    ("PrintStatus", ("NotSet", "NeedToPrint", "PrintComplete")),
    ("EmailStatus", ("NotSet", "NeedToSend", "EmailSent")),
)
_SALES_DEFAULTS: tuple[tuple[str, Any], ...] = (
    ("PrintStatus", "NotSet"),
    ("EmailStatus", "NotSet"),
    ("ApplyTaxAfterDiscount", False),
    ("CustomField", []),
    ("TxnTaxDetail", {"TotalTax": 0}),
)
_SALES_RO = ("TotalAmt", "Balance", "HomeTotalAmt", "HomeBalance")
_SALES_REFS = (
    ("CustomerRef", "Customer"),
    ("DepositToAccountRef", "Account"),
    ("PaymentMethodRef", "PaymentMethod"),
    ("DepartmentRef", "Department"),
    ("ClassRef", "Class"),
    ("SalesTermRef", "Term"),
)

TABLE: Final[dict[str, Rules]] = {
    rules.name: rules
    for rules in (
        # -- lists --------------------------------------------------------------------------
        Rules(
            "Department",
            "name",
            required=("Name",),
            name_field="Name",
            sub_flag="SubDepartment",
            filterable=(*_COMMON, "Name", "Active", "FullyQualifiedName"),
            active_default=True,
            readonly=("FullyQualifiedName",),
        ),
        Rules(
            "PaymentMethod",
            "name",
            required=("Name",),
            name_field="Name",
            enums=(("Type", ("CREDIT_CARD", "NON_CREDIT_CARD")),),
            defaults=(("Type", "NON_CREDIT_CARD"),),
            filterable=(*_COMMON, "Name", "Active", "Type"),
            active_default=True,
        ),
        Rules(
            "CustomerType",
            "list",
            ops=frozenset(),
            creatable=False,
            filterable=(*_COMMON, "Name", "Active"),
        ),
        Rules(
            "TaxAgency",
            "list",
            ops=frozenset(),
            required=("DisplayName",),
            name_field="DisplayName",
            bools=("TaxTrackedOnSales", "TaxTrackedOnPurchases"),
            defaults=(("TaxTrackedOnSales", True), ("TaxTrackedOnPurchases", False)),
            filterable=(*_COMMON, "DisplayName"),
        ),
        Rules(
            "TaxCode",
            "list",
            ops=frozenset(),
            creatable=False,
            filterable=(*_COMMON, "Name", "Active"),
        ),
        Rules(
            "TaxRate",
            "list",
            ops=frozenset(),
            creatable=False,
            filterable=(*_COMMON, "Name", "Active"),
        ),
        Rules(
            "JournalCode",
            "name",
            required=("Name",),
            name_field="Name",
            enums=(
                (
                    "Type",
                    ("Expenses", "Sales", "Bank", "Nouveaux", "Wages", "Cash", "Others"),
                ),
            ),
            filterable=(*_COMMON, "Name", "Active", "Type"),
        ),
        Rules(
            "CompanyCurrency",
            "name",
            required=("Code",),
            name_field="Code",
            filterable=(*_COMMON, "Code", "Active"),
            readonly=("Name",),
        ),
        Rules(
            "Budget",
            "list",
            ops=frozenset(),
            creatable=False,
            filterable=(*_COMMON, "Name", "Active", "StartDate", "EndDate", "BudgetType"),
        ),
        # -- transactions ---------------------------------------------------------------------
        Rules(
            "Estimate",
            "txn",
            ops=frozenset({UPDATE, DELETE, SEND, PDF}),
            required=("CustomerRef",),
            lines="sales",
            enums=(
                ("TxnStatus", ("Pending", "Accepted", "Closed", "Rejected", "Converted")),
                *_SALES_FORM,
            ),
            defaults=(("TxnStatus", "Pending"), *_SALES_DEFAULTS),
            readonly=_SALES_RO,
            refs=_SALES_REFS,
            filterable=(*_TXN, "CustomerRef", "TxnStatus"),
        ),
        Rules(
            "SalesReceipt",
            "txn",
            ops=frozenset({UPDATE, DELETE, VOID, SEND, PDF}),
            lines="sales",
            enums=_SALES_FORM,
            defaults=_SALES_DEFAULTS,
            readonly=_SALES_RO,
            refs=_SALES_REFS,
            filterable=(*_TXN, "CustomerRef"),
        ),
        Rules(
            "CreditMemo",
            "txn",
            ops=frozenset({UPDATE, DELETE, VOID, SEND, PDF}),
            required=("CustomerRef",),
            lines="sales",
            balance=True,
            enums=_SALES_FORM,
            defaults=_SALES_DEFAULTS,
            readonly=(*_SALES_RO, "RemainingCredit"),
            refs=_SALES_REFS,
            filterable=(*_TXN, "CustomerRef"),
        ),
        Rules(
            "RefundReceipt",
            "txn",
            ops=frozenset({UPDATE, DELETE, VOID, SEND, PDF}),
            required=("DepositToAccountRef",),
            lines="sales",
            enums=_SALES_FORM,
            defaults=_SALES_DEFAULTS,
            readonly=_SALES_RO,
            refs=_SALES_REFS,
            account_types=(("DepositToAccountRef", ("Bank", "Other Current Asset")),),
            filterable=(*_TXN, "CustomerRef"),
        ),
        Rules(
            "PurchaseOrder",
            "txn",
            ops=frozenset({UPDATE, DELETE, SEND, PDF}),
            required=("VendorRef",),
            lines="expense",
            enums=(("POStatus", ("Open", "Closed")),),
            defaults=(("POStatus", "Open"),),
            readonly=("TotalAmt", "HomeTotalAmt"),
            refs=(
                ("VendorRef", "Vendor"),
                ("APAccountRef", "Account"),
                ("ShipTo", "Customer"),
                ("DepartmentRef", "Department"),
                ("ClassRef", "Class"),
                ("SalesTermRef", "Term"),
            ),
            filterable=(*_TXN, "VendorRef", "POStatus"),
        ),
        Rules(
            "Deposit",
            "txn",
            ops=frozenset({UPDATE, DELETE}),
            required=("DepositToAccountRef",),
            lines="deposit",
            readonly=("TotalAmt", "HomeTotalAmt"),
            refs=(("DepositToAccountRef", "Account"), ("DepartmentRef", "Department")),
            account_types=(("DepositToAccountRef", ("Bank", "Other Current Asset")),),
            filterable=_TXN,
        ),
        Rules(
            "Transfer",
            "txn",
            ops=frozenset({UPDATE, DELETE}),
            required=("FromAccountRef", "ToAccountRef", "Amount"),
            amount="Amount",
            refs=(("FromAccountRef", "Account"), ("ToAccountRef", "Account")),
            distinct=("FromAccountRef", "ToAccountRef"),
            filterable=(*_COMMON, "TxnDate", "Amount"),
        ),
        Rules(
            "CreditCardPayment",
            "txn",
            ops=frozenset({UPDATE, DELETE}),
            required=("CreditCardAccountRef", "BankAccountRef", "Amount"),
            amount="Amount",
            refs=(
                ("CreditCardAccountRef", "Account"),
                ("BankAccountRef", "Account"),
                ("VendorRef", "Vendor"),
            ),
            account_types=(
                ("CreditCardAccountRef", ("Credit Card",)),
                ("BankAccountRef", ("Bank",)),
            ),
            filterable=(*_COMMON, "TxnDate", "Amount"),
            json_key="CreditCardPaymentTxn",
            xsd_type="CreditCardPaymentTxn",
        ),
        # -- served by their own endpoints (sandbox/exchange_rates.py, sandbox/recurring.py) --
        Rules(
            "ExchangeRate",
            "rate",
            creatable=False,
            required=("SourceCurrencyCode", "Rate"),
            numbers=("Rate",),
            readonly=("TargetCurrencyCode",),
            filterable=("SourceCurrencyCode", "AsOfDate"),
            cdc=False,
        ),
        Rules(
            "RecurringTransaction",
            "recurring",
            ops=frozenset({UPDATE, DELETE}),
            required=("RecurringInfo",),
            filterable=(*_COMMON, "Type"),
            cdc=False,
        ),
    )
}

#: Transactions a RecurringTransaction may wrap (XSD: any IntuitObject; these are the ones
#: Intuit's recurring templates take, as python-quickbooks lists them).
RECURRING_KINDS: Final = (
    "Bill",
    "CreditMemo",
    "Deposit",
    "Estimate",
    "Invoice",
    "JournalEntry",
    "Purchase",
    "PurchaseOrder",
    "RefundReceipt",
    "SalesReceipt",
    "Transfer",
    "VendorCredit",
)


def json_key(entity: str) -> str:
    """The key an entity's object has in answers (``CreditCardPaymentTxn``)."""
    rules = TABLE.get(entity)
    return rules.json_key or entity if rules is not None else entity


def xsd_type(entity: str) -> str:
    """The XSD type describing an entity's fields."""
    rules = TABLE.get(entity)
    return rules.xsd_type or entity if rules is not None else entity
