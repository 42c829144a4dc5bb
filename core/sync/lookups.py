"""Cost rates for time with none of its own: local employees first, then QBO, once per pull."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from core.mapping.lines import decimal
from core.qbo import queries

#: QBO records whose cost is hours × the worker's CostRate when they carry no rate of their own
#: (API.md §11.7): their workers' rates are read before a page of them is mapped.
PRICED_BY_WORKER = frozenset({"TimeActivity"})


class RateBook:
    """The employees' and vendors' CostRate, read from QBO only for workers not yet known.

    The maps are handed to mappers read-only (`Lookups`); `prefetch` fills them before a page
    of TimeActivity records is mapped, with one query per 1000 unknown workers.
    """

    def __init__(self, client: Any, employees: Mapping[str, Decimal]) -> None:
        """Start from the local employees connected to QBO that have a cost rate."""
        self.client = client
        self.employees: dict[str, Decimal] = dict(employees)
        self.vendors: dict[str, Decimal] = {}
        self._asked: set[tuple[str, str]] = set()

    def prefetch(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Read the CostRate of every worker of `rows` that has no rate of its own."""
        wanted: dict[str, set[str]] = {"Employee": set(), "Vendor": set()}
        for row in rows:
            if decimal(row.get("CostRate")) is not None:
                continue
            for entity, key, known in (
                ("Employee", "EmployeeRef", self.employees),
                ("Vendor", "VendorRef", self.vendors),
            ):
                ref = row.get(key)
                if isinstance(ref, Mapping) and ref.get("value"):
                    value = str(ref["value"])
                    if value not in known and (entity, value) not in self._asked:
                        wanted[entity].add(value)
        for entity, ids in wanted.items():
            target = self.employees if entity == "Employee" else self.vendors
            ordered = sorted(ids)
            for start in range(0, len(ordered), queries.MAX_RESULTS):
                chunk = ordered[start : start + queries.MAX_RESULTS]
                self._asked.update((entity, i) for i in chunk)
                response = self.client.query(queries.select(entity, queries.in_("Id", chunk)))
                for person in response.get(entity, []) or []:
                    rate = decimal(person.get("CostRate"))
                    if rate is not None:
                        target[str(person.get("Id"))] = rate
