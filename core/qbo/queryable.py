"""The fields QBO lets a query filter (WHERE) and sort (ORDERBY) on, per entity.

Intuit refuses a WHERE or ORDERBY on any other property with a 400 QueryValidationError
(Fault 4001, "property 'PrivateNote' is not queryable"). `core.qbo.queries.select` checks every
condition and sort key against this table, so a statement QBO would refuse fails where it is
built, in a unit test, not at Intuit in the middle of a crash recovery.

The table lists only what a source confirms (API.md §1.4, §4.2, §4.3, §7.1; Intuit's query
examples; integrators' published look-ups): it is a floor, never a guess. Free text
(`PrivateNote`, `Memo`, `Description`, `Note`), line-level fields (`Line.*`) and custom fields
are never filterable: a marker written there is matched client-side, after a query narrowed by
queryable fields (`core.push.locate`). The sandbox keeps its own copy of this table
(`sandbox/query_rules.py`); the two share no code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "FILTERABLE",
    "SORTABLE",
    "UNLISTED",
    "NotQueryable",
    "can_filter",
    "check_filter",
    "check_sort",
]

_COMMON = ("Id", "MetaData.CreateTime", "MetaData.LastUpdatedTime")
_TXN = (*_COMMON, "TxnDate", "DocNumber", "TotalAmt")
_PEOPLE = (*_COMMON, "DisplayName", "GivenName", "FamilyName", "CompanyName", "Active")

#: Entity -> fields a WHERE may name. A reference filters on its value (`VendorRef = '56'`).
FILTERABLE: Final[Mapping[str, frozenset[str]]] = {
    name: frozenset(fields)
    for name, fields in {
        "Bill": (*_TXN, "VendorRef", "Balance"),
        "VendorCredit": (*_TXN, "VendorRef"),
        "Purchase": _TXN,  # the payee (EntityRef) is not confirmed filterable
        "Invoice": (*_TXN, "CustomerRef", "Balance"),
        "Payment": (*_COMMON, "TxnDate", "TotalAmt", "CustomerRef"),
        "BillPayment": (*_COMMON, "TxnDate", "TotalAmt", "VendorRef"),
        "TimeActivity": (*_COMMON, "TxnDate", "EmployeeRef", "VendorRef"),
        "Customer": (*_PEOPLE, "FullyQualifiedName"),
        "Vendor": _PEOPLE,
        "Employee": (*_COMMON, "DisplayName", "GivenName", "FamilyName", "Active"),
        "Item": (*_COMMON, "Name", "Active", "Type", "FullyQualifiedName"),
        "Account": (*_COMMON, "Name", "Active", "AccountType", "FullyQualifiedName"),
        "Class": (*_COMMON, "Name", "Active", "FullyQualifiedName"),
        "Department": (*_COMMON, "Name", "Active", "FullyQualifiedName"),
        "Term": (*_COMMON, "Name", "Active"),
        "Attachable": (*_COMMON, "AttachableRef.EntityRef.Type", "AttachableRef.EntityRef.value"),
        "CompanyInfo": _COMMON,
        "Preferences": _COMMON,
    }.items()
}

_SORT_KEYS = frozenset(
    (
        *_COMMON,
        "TxnDate",
        "DocNumber",
        "DisplayName",
        "GivenName",
        "FamilyName",
        "CompanyName",
        "Name",
        "FullyQualifiedName",
    )
)
#: Entity -> fields an ORDERBY may name (header fields, dates, numbers and names only).
SORTABLE: Final[Mapping[str, frozenset[str]]] = {
    name: fields & _SORT_KEYS for name, fields in FILTERABLE.items()
}


class NotQueryable(ValueError):
    """A statement would filter or sort on a field QBO refuses (its Fault 4001)."""

    def __init__(self, entity: str, field: str, use: str) -> None:
        """`use` is "filter" or "sort"."""
        super().__init__(
            f"QBO cannot {use} {entity} on {field!r} (it answers Fault 4001, 'property is not "
            f"queryable'); use a field listed in core/qbo/queryable.py and match the rest "
            "client-side"
        )
        self.entity = entity
        self.field = field


#: What an entity the table does not list may be filtered and sorted on: the fields Intuit lets
#: every entity's query use (API.md §4.2). A plugin may own an entity the core has never heard
#: of; its pull pages by `Id` like any other, and anything more is matched client-side.
UNLISTED: Final[frozenset[str]] = frozenset(_COMMON)


def can_filter(entity: str, field: str) -> bool:
    """Whether QBO lets a WHERE on `entity` name `field`."""
    return _allowed(entity, field, FILTERABLE)


def _allowed(entity: str, field: str, table: Mapping[str, frozenset[str]]) -> bool:
    allowed = table.get(entity, UNLISTED)
    # `VendorRef.value` is the same filter as `VendorRef` (API.md §4.2).
    return field in allowed or field.removesuffix(".value") in allowed


def check_filter(entity: str, field: str) -> None:
    """Raise `NotQueryable` unless QBO lets a WHERE on `entity` name `field`."""
    if not _allowed(entity, field, FILTERABLE):
        raise NotQueryable(entity, field, "filter")


def check_sort(entity: str, field: str) -> None:
    """Raise `NotQueryable` unless QBO lets an ORDERBY on `entity` name `field`."""
    if not _allowed(entity, field, SORTABLE):
        raise NotQueryable(entity, field, "sort")
