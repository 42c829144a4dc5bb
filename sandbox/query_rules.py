"""Which fields each entity lets a query filter and sort on, and how big a query may be.

Intuit's entity reference marks each field "filterable" and/or "sortable"; a WHERE or ORDERBY
on any other property is refused with a 400 ``QueryValidationError`` (Fault code 4001,
"property ... is not queryable"). This table is deliberately **strict**: a field is listed only
where a source confirms it (API.md §1.4, §4.2, §7.1, Intuit's query page and blog examples, and
integrators' published queries; ``docs/sandbox-internals.md`` names the source per entity).
Where nothing confirms a field it is refused, so a client that works here works at Intuit; a
lenient table would hide exactly the bug issue 20 was about (a look-up by ``PrivateNote``).

Never filterable, whatever an entity: line-level fields (``Line.*``), ``PrivateNote``, ``Memo``,
``Description``, ``Note`` and custom fields (``CustomField``), the free text QBO keeps out of its
query index (integrators report 4001 for ``PrivateNote`` from live Intuit).

A selectable field is any property the XSD defines for the entity.

Size bounds (all unconfirmed: Intuit documents none) keep one request from holding a company's
concurrency slots: the statement's length, its number of conditions and of IN values, and the
number of ``%`` in a LIKE pattern.
"""

from __future__ import annotations

from typing import Final

from sandbox.entity_table import TABLE
from sandbox.entity_table import xsd_type
from sandbox.query_model import Query
from sandbox.query_model import QueryFieldError
from sandbox.query_model import QueryParseError
from sandbox.schema_fields import TYPES

MAX_QUERY_CHARS: Final = 100_000
MAX_CONDITIONS: Final = 100
MAX_IN_VALUES: Final = 1000
MAX_LIKE_WILDCARDS: Final = 20
MAX_ORDER_KEYS: Final = 10

# Every entity: API.md §1.4 (MetaData.LastUpdatedTime "filterable in queries"), §4.2 (Id and
# both MetaData times), §4.3 (costbridge pages ORDERBY Id / MetaData.LastUpdatedTime).
_COMMON = ("Id", "MetaData.CreateTime", "MetaData.LastUpdatedTime")
# Transactions: TxnDate and DocNumber (API.md §4.2's list); TotalAmt from Intuit's own examples
# (API.md §4.2, "TotalAmt > '300.00'").
_TXN = (*_COMMON, "TxnDate", "DocNumber", "TotalAmt")
_PEOPLE = (*_COMMON, "DisplayName", "GivenName", "FamilyName", "CompanyName", "Active")

FILTERABLE: Final[dict[str, frozenset[str]]] = {
    name: frozenset(f.casefold() for f in fields)
    for name, fields in {
        "Bill": (*_TXN, "VendorRef", "Balance"),
        "VendorCredit": (*_TXN, "VendorRef"),
        # The payee (EntityRef) is not confirmed filterable: match it client-side.
        "Purchase": _TXN,
        "Invoice": (*_TXN, "CustomerRef", "Balance"),
        "Payment": (*_COMMON, "TxnDate", "TotalAmt", "CustomerRef"),
        "BillPayment": (*_COMMON, "TxnDate", "TotalAmt", "VendorRef"),
        # TxnDate and DocNumber only (API.md §4.2's list); TotalAmt is not confirmed for
        # journal entries, and the lines' accounts and entities are line fields: refused.
        "JournalEntry": (*_COMMON, "TxnDate", "DocNumber"),
        # No DocNumber on a TimeActivity; the worker is EmployeeRef or VendorRef (issue 20,
        # and integrators' `WHERE EmployeeRef = '55' AND TxnDate = ...` look-ups).
        "TimeActivity": (*_COMMON, "TxnDate", "EmployeeRef", "VendorRef"),
        "Customer": (*_PEOPLE, "FullyQualifiedName"),
        "Vendor": _PEOPLE,
        "Employee": (*_COMMON, "DisplayName", "GivenName", "FamilyName", "Active"),
        "Item": (*_COMMON, "Name", "Active", "Type", "FullyQualifiedName"),
        "Account": (
            *_COMMON,
            "Name",
            "Active",
            "AccountType",
            "AccountSubType",
            "Classification",
            "FullyQualifiedName",
        ),
        "Class": (*_COMMON, "Name", "Active", "FullyQualifiedName"),
        "Term": (*_COMMON, "Name", "Active"),
        # API.md §7.1: by the record it is attached to; never by Note or FileName.
        "Attachable": (
            *_COMMON,
            "AttachableRef.EntityRef.Type",
            "AttachableRef.EntityRef.value",
            "AttachableRef.EntityRef",
        ),
        "CompanyInfo": _COMMON,
        "Preferences": _COMMON,
        # Issue 23's entities: each row of entity_table names its own (the sources are in
        # docs/sandbox-internals.md; unconfirmed fields are left out, as above).
        **{name: rules.filterable for name, rules in TABLE.items()},
    }.items()
}

#: Sorting: the header fields, dates, document numbers and names. References, flags, types
#: and amounts filter but do not sort (not confirmed sortable).
_SORT_KEYS: Final = frozenset(
    f.casefold()
    for f in (
        *_COMMON,
        "TxnDate",
        "DocNumber",
        "DisplayName",
        "GivenName",
        "FamilyName",
        "CompanyName",
        "Name",
        "FullyQualifiedName",
        "Code",
    )
)
SORTABLE: Final[dict[str, frozenset[str]]] = {
    name: fields & _SORT_KEYS for name, fields in FILTERABLE.items()
}

#: Never queryable on any entity (checked first, so no table edit can let them through).
NEVER: Final = frozenset(
    f.casefold() for f in ("PrivateNote", "Memo", "Description", "Note", "CustomField", "Line")
)


class _NotAllowed(QueryFieldError):
    """A defined property used where QBO does not allow it (WHERE or ORDERBY): Fault 4001."""

    def __init__(self, field: str, entity: str, use: str) -> None:
        super().__init__(field, entity)
        # Intuit's wording for a WHERE on such a field: "property 'X' is not queryable".
        self.message = (
            f"property '{field}' is not queryable"
            if use == "filterable"
            else f"property '{field}' is not sortable"
        )


def check_size(text: str) -> None:
    """Refuse a statement longer than ``MAX_QUERY_CHARS`` before it is parsed (Fault 4000)."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryParseError(
            f"The query is longer than the supported {MAX_QUERY_CHARS} characters."
        )


def defined_fields(entity: str) -> set[str]:
    """The top-level properties a query may name on ``entity`` (case-folded): the XSD's."""
    defined = {key.casefold() for key in TYPES.get(xsd_type(entity), {})}
    if entity == "RecurringTransaction":
        # The wrapper's XSD type holds any transaction; Intuit's queries name its Type.
        defined.add("type")
    return defined


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
    defined = defined_fields(entity)
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
    if any(part in NEVER for part in folded.split(".")):
        return False
    # A reference filters on its value (`VendorRef = '56'`, API.md §4.2): `VendorRef.value` too.
    return folded in allowed or folded.removesuffix(".value") in allowed
