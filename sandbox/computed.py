"""Fields QBO computes when it answers, not when it stores (API.md §1.5, §11.9, §11.10).

* A reference's ``name`` is the target's current name (``FullyQualifiedName`` for hierarchies,
  else ``DisplayName``/``Name``): renaming a vendor renames it on every bill that points at it.
* ``FullyQualifiedName`` and ``Level`` follow the current parents (a renamed parent renames its
  children's paths).
* Customer ``Balance`` is the open balance of its invoices and ``BalanceWithJobs`` adds its
  sub-customers'; Vendor ``Balance`` is its open bills less its open vendor credits
  (unconfirmed: that vendor credits count against it).

A ``View`` computes these for one answer; stored objects are never changed, and an object
that needs nothing new is returned as stored (no copy).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sandbox.fields import REF_TARGETS

if TYPE_CHECKING:
    from sandbox.realm import Realm

_ZERO = Decimal("0")
_HIERARCHIES = ("Customer", "Item", "Account", "Class", "Department")
_LEVELLED = ("Customer", "Item")
_PAYEES = ("Vendor", "Customer", "Employee")
#: Deeper chains cannot be stored (entities.py refuses them); this only bounds the walk.
_MAX_WALK = 16


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return _ZERO


class View:
    """Computes answer-time fields for one response (caches names and balances meanwhile)."""

    def __init__(self, realm: Realm) -> None:
        self.realm = realm
        self._paths: dict[tuple[str, str], tuple[str, int]] = {}
        self._balances: dict[str, dict[str, Decimal]] = {}
        self._tree: dict[str, list[str]] | None = None

    # -- names --------------------------------------------------------------------------------

    def path(self, entity: str, obj: dict[str, Any]) -> tuple[str, int]:
        """(FullyQualifiedName, Level) from the current names of ``obj`` and its parents."""
        key = (entity, str(obj.get("Id")))
        cached = self._paths.get(key)
        if cached is not None:
            return cached
        labels = [_label(obj)]
        current = obj
        for _ in range(_MAX_WALK):
            ref = current.get("ParentRef")
            if not isinstance(ref, dict):
                break
            parent = self.realm.get(entity, str(ref.get("value")))
            if parent is None or parent is obj:
                break
            labels.append(_label(parent))
            current = parent
        result = (":".join(reversed(labels)), len(labels) - 1)
        self._paths[key] = result
        return result

    def name_of(self, entity: str, entity_id: str) -> str | None:
        """The ``name`` a reference to (entity, id) shows, None when the target is unknown."""
        target = self.realm.get(entity, entity_id)
        if target is None:
            return None
        if entity in _HIERARCHIES:
            return self.path(entity, target)[0]
        return _label(target)

    # -- balances -----------------------------------------------------------------------------

    def _open(self, entity: str, ref_key: str) -> dict[str, Decimal]:
        cached = self._balances.get(entity)
        if cached is None:
            cached = defaultdict(Decimal)
            for txn in self.realm.all(entity):
                ref = txn.get(ref_key)
                if isinstance(ref, dict):
                    cached[str(ref.get("value"))] += _money(txn.get("Balance", 0))
            self._balances[entity] = cached
        return cached

    def vendor_balance(self, vendor_id: str) -> Decimal:
        """Open bills less open vendor credits."""
        bills = self._open("Bill", "VendorRef").get(vendor_id, _ZERO)
        return bills - self._open("VendorCredit", "VendorRef").get(vendor_id, _ZERO)

    def customer_balance(self, customer_id: str) -> Decimal:
        """Open invoices of this customer alone."""
        return self._open("Invoice", "CustomerRef").get(customer_id, _ZERO)

    def customer_balance_with_jobs(self, customer_id: str) -> Decimal:
        """Its own open invoices and those of every sub-customer, at any depth."""
        children = self._children()
        total, todo, seen = _ZERO, [customer_id], set[str]()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            total += self.customer_balance(current)
            todo.extend(children.get(current, ()))
        return total

    def _children(self) -> dict[str, list[str]]:
        if self._tree is None:
            tree: dict[str, list[str]] = defaultdict(list)
            for customer in self.realm.all("Customer"):
                ref = customer.get("ParentRef")
                if isinstance(ref, dict):
                    tree[str(ref.get("value"))].append(str(customer["Id"]))
            self._tree = tree
        return self._tree

    # -- the answer ---------------------------------------------------------------------------

    def shown(self, entity: str, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` with every computed-on-read field current (``obj`` itself if none moved)."""
        changes: dict[str, Any] = {}
        if entity in _HIERARCHIES and "Id" in obj:
            fqn, level = self.path(entity, obj)
            if obj.get("FullyQualifiedName") != fqn:
                changes["FullyQualifiedName"] = fqn
            if entity in _LEVELLED and level and obj.get("Level") != level:
                changes["Level"] = level
        if entity == "Vendor" and "Id" in obj and obj.get("status") != "Deleted":
            balance = self.vendor_balance(str(obj["Id"]))
            if obj.get("Balance") != balance:
                changes["Balance"] = balance
        if entity == "Customer" and "Id" in obj:
            own = self.customer_balance(str(obj["Id"]))
            with_jobs = self.customer_balance_with_jobs(str(obj["Id"]))
            if obj.get("Balance") != own or obj.get("BalanceWithJobs") != with_jobs:
                changes["Balance"] = own
                changes["BalanceWithJobs"] = with_jobs
        refreshed = self._refs(entity, obj)
        if refreshed is not obj:
            return {**refreshed, **changes}
        return {**obj, **changes} if changes else obj

    def _refs(self, owner: str, value: Any) -> Any:
        """``value`` with current reference names; the same object when none changed."""
        if isinstance(value, list):
            items = [self._refs(owner, item) for item in value]
            return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] | None = None
        for key, item in value.items():
            target = REF_TARGETS.get(key)
            if key == "ParentRef":
                target = owner
            elif key == "EntityRef" and isinstance(item, dict):
                # Purchase.EntityRef carries its own `type`; a journal line's Entity holds the
                # type beside the reference (`{"Type": "Customer", "EntityRef": {...}}`).
                kind = item.get("type") or value.get("Type")
                target = str(kind) if kind in _PAYEES else None
            if target is not None and isinstance(item, dict) and "value" in item:
                name = self.name_of(target, str(item["value"]))
                new = item if name is None or item.get("name") == name else {**item, "name": name}
            else:
                new = self._refs(owner, item) if isinstance(item, dict | list) else item
            if new is not item:
                out = out if out is not None else dict(value)
                out[key] = new
        return out if out is not None else value


def _label(obj: dict[str, Any]) -> str:
    return str(obj.get("DisplayName") or obj.get("Name") or "")
