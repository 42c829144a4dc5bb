"""Row ids from requests: one strict reading, so a bad id is 404 on every database.

A row id is ASCII digits naming a number from 1 to `MAX_ID`, the largest BIGINT (every id
column is at most that on PostgreSQL, and SQLite's INTEGER stops there too). Anything else names
no row: `99999999999999999999`, `0`, `-1`, `1,2`, `abc`, `٣` or `１` (digits, but not ASCII),
`1_000`, `+1`, ` 1`, an empty value. Such a value is refused before any SQL runs, so the answer
does not depend on what the database would have said about it (PostgreSQL: an out-of-range
error; SQLite: an `OverflowError` from the driver, or a silent miss).

- URL parts: `<id:company_id>` (`IdConverter`, installed by `use_ids`): a bad value matches no
  route, which is 404.
- Query and form values: `required_id(request.args.get("id"))` is the id or 404;
  `optional_id(...)` is also None for a missing or empty value (a filter left blank).
- Form fields that pick a row from a list: `parse_id(raw)` is the id or None, and the form says
  what to choose.
- Flask-Admin's own views (details, edit, delete, list-editable updates, bulk actions) read
  their `id` through `row_key` (`admin.auth.SecureModelView`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from flask import Flask
from flask import abort
from sqlalchemy import Integer
from sqlalchemy import inspect
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map

__all__ = [
    "MAX_ID",
    "IdConverter",
    "optional_id",
    "parse_id",
    "required_id",
    "row_key",
    "use_ids",
]

#: The largest row id: BIGINT's, and SQLite's INTEGER's.
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(raw: object) -> int | None:
    """`raw` as a row id, or None when it cannot name one (see the module's list)."""
    if not isinstance(raw, str) or _DIGITS.fullmatch(raw) is None:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def required_id(raw: str | None) -> int:
    """The row id in a query or form value; 404 when it is missing or cannot name a row."""
    value = parse_id(raw)
    if value is None:
        abort(404)
    return value


def optional_id(raw: str | None) -> int | None:
    """None for a missing or empty value; else `required_id`: a bad value is still 404."""
    if raw is None or raw == "":
        return None
    return required_id(raw)


def row_key(model: Any, parts: Sequence[str]) -> tuple[Any, ...] | None:
    """The primary key of `model` named by `parts` (one text per key column), or None.

    Integer key columns take `parse_id`'s ids only; other columns take the text as it is. The
    wrong number of parts (Flask-Admin's `1,2` for a one-column key) is None too.
    """
    columns = inspect(model).primary_key
    if len(parts) != len(columns):
        return None
    key: list[Any] = []
    for column, part in zip(columns, parts, strict=True):
        if isinstance(column.type, Integer):
            value = parse_id(part)
            if value is None:
                return None
            key.append(value)
        else:
            key.append(part)
    return tuple(key)


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id in a URL path (`parse_id`'s rules); anything else matches nothing."""

    regex = r"[0-9]+"

    def __init__(self, map: Map) -> None:  # noqa: A002 - werkzeug's own argument name
        """ASCII digits only, from 1 to `MAX_ID`."""
        super().__init__(map, min=1, max=MAX_ID)


def use_ids(app: Flask) -> None:
    """Make `<id:...>` available to the routes registered on `app` from now on."""
    app.url_map.converters.setdefault("id", IdConverter)
