"""Building QBO query statements safely, and the page loop.

QBO's query language (API.md §4.2) has only `AND`, single-quoted literals with the apostrophe
backslash-escaped (`'O\\'Brien'`), `=`, `<`, `>`, `<=`, `>=`, `IN`, `LIKE`, `ORDERBY`,
1-based `STARTPOSITION` and `MAXRESULTS` up to 1000. Values are always quoted here (QBO accepts
quoted numbers and booleans too); field names must look like `Name` or `MetaData.CreateTime`,
so no value or name can break out of its place in the statement. `select` refuses, when it
builds the statement, a condition or sort key on a field QBO does not let a query use
(`core.qbo.queryable`): such a statement would only fail at Intuit, with Fault 4001.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.qbo import queryable

__all__ = ["MAX_RESULTS", "Cond", "eq", "ge", "gt", "in_", "le", "like", "lt", "quote", "select"]

MAX_RESULTS = 1000
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
_ENTITY = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
Value = str | int | Decimal | bool | dt.date | dt.datetime


def quote(value: Value) -> str:
    """Render one value as a QBO string literal.

    Backslashes and apostrophes are backslash-escaped (`O'Brien & Sons` becomes
    `'O\\'Brien & Sons'`); any other character, accented or not, is kept as written.

    Raises:
        TypeError: The value is a float (money is Decimal) or of an unsupported type.
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("query datetimes must be aware (QBO compares with an offset)")
        text = value.isoformat(timespec="seconds")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise TypeError(f"cannot put a {type(value).__name__} in a QBO query; use str/Decimal/date")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _field(name: str) -> str:
    if not _FIELD.match(name):
        raise ValueError(f"not a QBO field name: {name!r}")
    return name


@dataclass(frozen=True)
class Cond:
    """One condition of a WHERE clause; build it with `eq`, `in_`, `gt`, ... .

    `field` is the property it filters on, checked by `select` against the entity.
    """

    field: str
    text: str

    def __str__(self) -> str:
        """The condition as QBO reads it."""
        return self.text


def eq(field: str, value: Value) -> Cond:
    """`field = 'value'`."""
    return Cond(field, f"{_field(field)} = {quote(value)}")


def gt(field: str, value: Value) -> Cond:
    """`field > 'value'`."""
    return Cond(field, f"{_field(field)} > {quote(value)}")


def ge(field: str, value: Value) -> Cond:
    """`field >= 'value'`."""
    return Cond(field, f"{_field(field)} >= {quote(value)}")


def lt(field: str, value: Value) -> Cond:
    """`field < 'value'`."""
    return Cond(field, f"{_field(field)} < {quote(value)}")


def le(field: str, value: Value) -> Cond:
    """`field <= 'value'`."""
    return Cond(field, f"{_field(field)} <= {quote(value)}")


def in_(field: str, values: Iterable[Value]) -> Cond:
    """`field IN ('a', 'b')`.

    Raises:
        ValueError: No values (QBO refuses an empty list).
    """
    items = [quote(v) for v in values]
    if not items:
        raise ValueError("IN needs at least one value")
    return Cond(field, f"{_field(field)} IN ({', '.join(items)})")


def like(field: str, pattern: str) -> Cond:
    """`field LIKE 'pattern'`; `%` is the only wildcard QBO knows."""
    return Cond(field, f"{_field(field)} LIKE {quote(pattern)}")


def select(
    entity: str,
    *conditions: Cond,
    fields: Iterable[str] = ("*",),
    order_by: str | None = "Id",
    start_position: int = 1,
    max_results: int = MAX_RESULTS,
    count: bool = False,
) -> str:
    """Build one SELECT statement.

    Args:
        entity: `Bill`, `Customer`, ...
        conditions: ANDed together.
        fields: Projection (default `*`).
        order_by: Sort field for stable paging (API.md §4.3); None for none.
        start_position: 1-based first row.
        max_results: Page size, 1..1000.
        count: `SELECT COUNT(*)` instead of rows (no paging, no ORDERBY).

    Returns:
        The statement.

    Raises:
        NotQueryable: A condition or `order_by` names a field QBO does not let a query filter
            or sort `entity` on (`core.qbo.queryable`); QBO would answer Fault 4001.
        ValueError: A malformed name, or paging out of range.
    """
    if not _ENTITY.match(entity):
        raise ValueError(f"not a QBO entity name: {entity!r}")
    if not 1 <= max_results <= MAX_RESULTS:
        raise ValueError(f"max_results must be 1..{MAX_RESULTS}")
    if start_position < 1:
        raise ValueError("start_position is 1-based")
    for cond in conditions:
        queryable.check_filter(entity, cond.field)
    projection = "COUNT(*)" if count else ", ".join(f if f == "*" else _field(f) for f in fields)
    # Not SQL: entity and fields are checked names, every value went through quote().
    parts = [f"SELECT {projection} FROM {entity}"]  # noqa: S608  # nosec B608
    if conditions:
        parts.append("WHERE " + " AND ".join(str(c) for c in conditions))
    if count:
        return " ".join(parts)
    if order_by:
        queryable.check_sort(entity, order_by)
        parts.append(f"ORDERBY {_field(order_by)}")
    parts.append(f"STARTPOSITION {start_position} MAXRESULTS {max_results}")
    return " ".join(parts)
