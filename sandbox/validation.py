"""Field rules from Intuit's reference applied to every write (API.md §1.5, §7.1, §11).

* Length limits: DocNumber 21, PrivateNote/Description/Memo 4000, Attachable Note 2000 (§7.1,
  §11.2, §11.7); names 100 for Item/Account/Class/Term (§11.8, §11.12), DisplayName 500 and
  person name parts 100 (unconfirmed), Notes 2000 (unconfirmed). Longer ones get 2050.
* Money (``Amount``, ``TotalAmt``) with at most two decimals (§1.5 says "in practice"; a third
  decimal gets 2010, unconfirmed).
* Sparse updates merge nested objects key by key, lists replace (§2.3).
* Customer hierarchies: no cycles, at most 5 levels (§11.9 "max depth 5", unconfirmed).
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any

from sandbox import faults

if TYPE_CHECKING:
    from sandbox.realm import Realm

_LENGTHS: dict[str, int] = {
    "DocNumber": 21,
    "PrivateNote": 4000,
    "Description": 4000,
    "Memo": 4000,
    "Notes": 2000,
    "DisplayName": 500,
    "GivenName": 100,
    "MiddleName": 100,
    "FamilyName": 100,
    "CompanyName": 100,
    "PrintOnCheckName": 110,
}
_NAME_LENGTH: dict[str, int] = {
    "Item": 100,
    "Account": 100,
    "Class": 100,
    "Department": 100,
    "Term": 31,
}
_NOTE_LENGTH = {"Attachable": 2000}
_MONEY = ("Amount", "TotalAmt")
MAX_CUSTOMER_LEVEL = 4  # Level 0 (top) to 4: five levels


def _too_long(element: str, limit: int) -> faults.QboFault:
    return faults.validation(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"{element} is longer than the maximum of {limit} characters.",
        element,
    )


def check_fields(entity: str, body: Any) -> None:
    """Length and money-precision rules over a write body, at any depth."""
    if not isinstance(body, dict):
        return
    limits = dict(_LENGTHS)
    if entity in _NAME_LENGTH:
        limits["Name"] = _NAME_LENGTH[entity]
    if entity in _NOTE_LENGTH:
        limits["Note"] = _NOTE_LENGTH[entity]
    _walk(body, "", limits)


def _walk(value: Any, path: str, limits: dict[str, int]) -> None:
    if isinstance(value, list):
        for item in value:
            _walk(item, path, limits)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        element = f"{path}.{key}" if path else key
        limit = limits.get(key)
        if limit is not None and isinstance(item, str) and len(item) > limit:
            raise _too_long(element, limit)
        if key in _MONEY and not isinstance(item, bool) and isinstance(item, int | Decimal | str):
            _two_decimals(item, element)
        if isinstance(item, dict | list):
            _walk(item, element, limits)


def _two_decimals(value: Any, element: str) -> None:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return  # not a number: the entity rules say so with their own Fault
    exponent = number.as_tuple().exponent
    if (
        number.is_finite()
        and isinstance(exponent, int)
        and exponent < -2
        and number != round(number, 2)
    ):
        raise faults.validation(
            "2010",
            "Request has invalid or unsupported property",
            f"Property Name:{element} has more than 2 decimal places",
            element,
        )


def sparse_merge(existing: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A sparse update's object: nested objects merge key by key, lists and leaves replace."""
    out = dict(existing)
    for key, value in body.items():
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and not key.endswith("Ref"):
            out[key] = sparse_merge(old, value)
        else:
            out[key] = value
    return out


def check_customer_parent(realm: Realm, obj: dict[str, Any], own_id: str | None) -> None:
    """A sub-customer's parent chain: not through itself, at most MAX_CUSTOMER_LEVEL deep."""
    ref = obj.get("ParentRef")
    if not isinstance(ref, dict):
        return
    depth, current = 1, realm.get("Customer", str(ref.get("value")))
    seen: set[str] = set()
    while current is not None:
        if own_id is not None and current["Id"] == own_id or current["Id"] in seen:
            raise faults.business_validation(
                "A customer cannot be a sub-customer of itself or of its own sub-customers.",
                "ParentRef",
            )
        seen.add(current["Id"])
        parent = current.get("ParentRef")
        if not isinstance(parent, dict):
            break
        depth += 1
        current = realm.get("Customer", str(parent.get("value")))
    if depth > MAX_CUSTOMER_LEVEL:
        raise faults.business_validation(
            f"Sub-customers can be nested at most {MAX_CUSTOMER_LEVEL} levels deep.", "ParentRef"
        )
