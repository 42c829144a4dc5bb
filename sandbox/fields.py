"""Field-level helpers shared by the entity rules: input cleaning, numbers, dates, refs."""

from __future__ import annotations

import re
from datetime import date
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any

from sandbox import faults

if TYPE_CHECKING:
    from sandbox.state import Realm

# Fields every entity has that the server owns; §13: clients echo them and QBO ignores them.
COMMON_READONLY = ("Id", "SyncToken", "MetaData", "domain", "sparse", "status")

# Reference fields that point at stored entities, and where they point.
REF_TARGETS: dict[str, str] = {
    "VendorRef": "Vendor",
    "PrefVendorRef": "Vendor",
    "CustomerRef": "Customer",
    "EmployeeRef": "Employee",
    "ItemRef": "Item",
    "AccountRef": "Account",
    "APAccountRef": "Account",
    "ARAccountRef": "Account",
    "IncomeAccountRef": "Account",
    "ExpenseAccountRef": "Account",
    "AssetAccountRef": "Account",
    "DepositToAccountRef": "Account",
    "ClassRef": "Class",
    "SalesTermRef": "Term",
    "TermRef": "Term",
    # Issue 23's entities.
    "DepartmentRef": "Department",
    "PaymentMethodRef": "PaymentMethod",
    "CustomerTypeRef": "CustomerType",
    "FromAccountRef": "Account",
    "ToAccountRef": "Account",
    "CreditCardAccountRef": "Account",
    "AgencyRef": "TaxAgency",
}

USD = {"value": "USD", "name": "United States Dollar"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def clean(value: Any) -> Any:
    """Deep-copy client input, dropping §13 "unset" markers.

    Empty strings mean "not set" in object-model clients (``"DocNumber": ""``), and a reference
    left with no ``value`` (``{"value": "", "name": ""}``) is no reference at all.
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item == "" or item is None:
                continue
            if key.endswith("Ex") and isinstance(item, dict):
                # JAXB extension noise (PurchaseEx, LineEx: xs:any) echoed back from a read;
                # never stored, so its content cannot reach later answers.
                continue
            item = clean(item)
            if key.endswith("Ref") and isinstance(item, dict) and "value" not in item:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def to_decimal(value: Any, element: str) -> Decimal:
    """Read a JSON number (or numeric string) as Decimal; 2010 otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise faults.invalid_field(element, f"{element} must be a number")
    try:
        # float only arrives from seed code; str() keeps its shortest exact-looking form.
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise faults.invalid_field(element, f"{element} must be a number") from None
    if not result.is_finite():
        raise faults.invalid_field(element, f"{element} must be a number")
    return result


def number_fields(obj: dict[str, Any], names: tuple[str, ...], prefix: str = "") -> None:
    """Convert the named fields of ``obj`` to Decimal in place (obj is our own copy)."""
    for name in names:
        if name in obj:
            obj[name] = to_decimal(obj[name], prefix + name)


def as_date(value: Any, element: str) -> str:
    """Validate a ``YYYY-MM-DD`` date (a datetime's date part is accepted) and return it."""
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise faults.invalid_field(element, f"{element} must be a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise faults.invalid_field(element, f"{element} must be a date (YYYY-MM-DD)") from None


def as_datetime(value: Any, element: str) -> datetime:
    """Parse an ISO datetime; 2010 when it is not one."""
    if not isinstance(value, str):
        raise faults.invalid_field(element, f"{element} must be a datetime")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise faults.invalid_field(element, f"{element} must be a datetime") from None


def as_bool(obj: dict[str, Any], name: str, default: bool | None = None) -> None:
    """Normalise a boolean field (``true``/``"true"``); 2010 for anything else."""
    if name not in obj:
        if default is not None:
            obj[name] = default
        return
    value = obj[name]
    if isinstance(value, bool):
        return
    if isinstance(value, str) and value.lower() in ("true", "false"):
        obj[name] = value.lower() == "true"
        return
    raise faults.invalid_field(name, f"{name} must be true or false")


def require(obj: dict[str, Any], name: str, element: str | None = None) -> Any:
    """Return ``obj[name]`` or raise 2020 naming ``element``."""
    if name not in obj:
        raise faults.required_field(element or name)
    return obj[name]


def display_of(target: dict[str, Any]) -> str:
    """The ``name`` QBO fills into a reference to ``target``."""
    return str(
        target.get("FullyQualifiedName") or target.get("DisplayName") or target.get("Name") or ""
    )


def resolve(realm: Realm, ref: Any, entity: str, element: str) -> dict[str, Any]:
    """Check one reference and return the target; fills the ref's ``name``.

    Unknown Id -> 2500 Invalid Reference; inactive target -> 610 (API.md §3.2).
    """
    if not isinstance(ref, dict) or not isinstance(ref.get("value"), str | int):
        raise faults.invalid_field(element, f"{element} must be a reference object")
    ref["value"] = str(ref["value"])
    target = realm.get(entity, ref["value"])
    if target is None:
        raise faults.invalid_reference(element, entity, ref["value"])
    if target.get("Active") is False:
        raise faults.object_not_found()
    ref["name"] = display_of(target)
    return target


def resolve_all(realm: Realm, obj: Any, path: str = "", skip: frozenset[str] = frozenset()) -> None:
    """Walk ``obj`` and resolve every known reference field in it (fills names)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            element = f"{path}.{key}" if path else key
            if key in REF_TARGETS and key not in skip:
                resolve(realm, value, REF_TARGETS[key], element)
            elif isinstance(value, dict | list):
                resolve_all(realm, value, element, skip)
    elif isinstance(obj, list):
        for item in obj:
            resolve_all(realm, item, path, skip)


def list_field(obj: dict[str, Any], name: str) -> list[Any]:
    """Return ``obj[name]`` checked to be a list of objects (2010 otherwise)."""
    value = obj.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise faults.invalid_field(name, f"{name} must be a list of objects")
    return value
