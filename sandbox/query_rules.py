"""Which fields each entity lets a query select, filter and sort on, and how big a query may be.

API.md §4.2: "Only fields documented as filterable / sortable for an entity can be used in
WHERE / ORDERBY; using other fields returns a 4000-series parse/validation fault". Intuit's
entity reference marks fields one by one; API.md keeps only the ones costbridge relies on, so
the lists below are those plus the fields Intuit's reference commonly marks filterable
(unconfirmed per field). A selectable field is any property the XSD defines for the entity.

Size bounds (all unconfirmed: Intuit documents none) keep one request from holding a company's
concurrency slots: the statement's length, its number of conditions and of IN values, and the
number of ``%`` in a LIKE pattern.
"""

from __future__ import annotations

from typing import Final

from sandbox.query_model import Query
from sandbox.query_model import QueryFieldError
from sandbox.query_model import QueryParseError
from sandbox.schema_fields import TYPES

MAX_QUERY_CHARS: Final = 100_000
MAX_CONDITIONS: Final = 100
MAX_IN_VALUES: Final = 1000
MAX_LIKE_WILDCARDS: Final = 20
MAX_ORDER_KEYS: Final = 10

_COMMON = ("Id", "MetaData.CreateTime", "MetaData.LastUpdatedTime")
_TXN = (*_COMMON, "TxnDate", "DocNumber", "TotalAmt", "PrivateNote", "CurrencyRef")
_PEOPLE = (
    *_COMMON,
    "DisplayName",
    "GivenName",
    "FamilyName",
    "MiddleName",
    "CompanyName",
    "PrimaryEmailAddr",
    "PrintOnCheckName",
    "Active",
)

FILTERABLE: Final[dict[str, frozenset[str]]] = {
    name: frozenset(f.casefold() for f in fields)
    for name, fields in {
        "Bill": (*_TXN, "VendorRef", "APAccountRef", "DueDate", "Balance", "SalesTermRef"),
        "Purchase": (*_TXN, "EntityRef", "AccountRef", "PaymentType", "Credit"),
        "VendorCredit": (*_TXN, "VendorRef", "APAccountRef", "Balance"),
        "Invoice": (*_TXN, "CustomerRef", "DueDate", "Balance", "SalesTermRef", "EmailStatus"),
        "Payment": (*_TXN, "CustomerRef", "PaymentRefNum", "UnappliedAmt"),
        "BillPayment": (*_TXN, "VendorRef", "PayType"),
        "TimeActivity": (
            *_COMMON,
            "TxnDate",
            "NameOf",
            "EmployeeRef",
            "VendorRef",
            "CustomerRef",
            "ItemRef",
            "ClassRef",
            "BillableStatus",
        ),
        "Customer": (
            *_PEOPLE,
            "FullyQualifiedName",
            "Balance",
            "BalanceWithJobs",
            "Job",
            "ParentRef",
            "IsProject",
        ),
        "Vendor": (*_PEOPLE, "Balance", "Vendor1099", "AcctNum"),
        "Employee": (*_PEOPLE, "EmployeeNumber", "BillableTime"),
        "Item": (
            *_COMMON,
            "Name",
            "Active",
            "Type",
            "Sku",
            "FullyQualifiedName",
            "ParentRef",
            "SubItem",
            "UnitPrice",
            "QtyOnHand",
        ),
        "Account": (
            *_COMMON,
            "Name",
            "Active",
            "AccountType",
            "AccountSubType",
            "Classification",
            "FullyQualifiedName",
            "CurrentBalance",
            "CurrentBalanceWithSubAccounts",
            "AcctNum",
            "SubAccount",
            "ParentRef",
        ),
        "Class": (*_COMMON, "Name", "Active", "FullyQualifiedName", "SubClass", "ParentRef"),
        "Term": (*_COMMON, "Name", "Active", "Type", "DueDays"),
        "Attachable": (
            *_COMMON,
            "AttachableRef.EntityRef.type",
            "AttachableRef.EntityRef.value",
            "AttachableRef.EntityRef",
            "FileName",
            "ContentType",
            "Category",
            "Note",
            "Size",
        ),
        "CompanyInfo": _COMMON,
        "Preferences": _COMMON,
    }.items()
}
#: Sorting takes the same fields (unconfirmed: Intuit marks a few filterable-only).
SORTABLE: Final = FILTERABLE


class _NotAllowed(QueryFieldError):
    """A defined property used where QBO does not allow it (WHERE or ORDERBY)."""

    def __init__(self, field: str, entity: str, use: str) -> None:
        super().__init__(field, entity)
        self.message = f"property '{field}' is not {use} for {entity}"


def check_size(text: str) -> None:
    """Refuse a statement longer than ``MAX_QUERY_CHARS`` before it is parsed (Fault 4000)."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryParseError(
            f"The query is longer than the supported {MAX_QUERY_CHARS} characters."
        )


def check(query: Query) -> None:
    """Refuse fields the entity does not let this query use, and oversized queries.

    Args:
        query: Parsed, with the canonical entity name.

    Raises:
        QueryFieldError: Code 4001 naming the field (unknown, not filterable, not sortable).
        QueryParseError: Code 4000 for too many conditions, IN values or LIKE wildcards.
    """
    if len(query.where) > MAX_CONDITIONS:
        raise QueryParseError(f"A query may hold at most {MAX_CONDITIONS} conditions.")
    if len(query.order) > MAX_ORDER_KEYS:
        raise QueryParseError(f"A query may sort by at most {MAX_ORDER_KEYS} fields.")
    for cond in query.where:
        if len(cond.values) > MAX_IN_VALUES:
            raise QueryParseError(f"An IN list may hold at most {MAX_IN_VALUES} values.")
        if cond.op == "LIKE" and str(cond.value).count("%") > MAX_LIKE_WILDCARDS:
            raise QueryParseError(f"A LIKE pattern may hold at most {MAX_LIKE_WILDCARDS} '%'.")
    entity = query.entity
    defined = {key.casefold() for key in TYPES.get(entity, {})}
    for path in query.referenced_fields():
        if path.split(".", 1)[0].casefold() not in defined:
            raise QueryFieldError(path, entity)
    allowed = FILTERABLE.get(entity, frozenset())
    for cond in query.where:
        if not _allowed(cond.field, allowed):
            raise _NotAllowed(cond.field, entity, "filterable")
    for key in query.order:
        if not _allowed(key.field, SORTABLE.get(entity, frozenset())):
            raise _NotAllowed(key.field, entity, "sortable")


def _allowed(path: str, allowed: frozenset[str]) -> bool:
    folded = path.casefold()
    # A reference filters on its value (`VendorRef = '56'`, API.md §4.2): `VendorRef.value` too.
    return folded in allowed or folded.removesuffix(".value") in allowed
