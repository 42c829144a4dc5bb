"""Evaluating a parsed QBO query over entity dicts in QBO JSON shape (API.md §4.2 to §4.5).

QBO's typing is loose: a literal is compared as whatever the stored value is (number, date,
datetime, boolean, text), a ``*Ref`` compares its ``value``, and a path through a list (such as
``AttachableRef.EntityRef.type``) matches when any element matches.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import Final

from sandbox.query_model import DEFAULT_MAX_RESULTS
from sandbox.query_model import NAME_LIST_ENTITIES
from sandbox.query_model import Condition
from sandbox.query_model import Query
from sandbox.query_model import QueryFieldError
from sandbox.query_model import Value

_MISSING: Final = object()
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_DATETIME_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
_NUMBER_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")


def _looks_like_datetime(text: str) -> bool:
    # Cheaper than the regex on every row; fromisoformat does the real validation.
    return len(text) >= 16 and text[4] == "-" and text[10] in "T " and text[13] == ":"


@dataclass(frozen=True)
class QueryResult:
    """The outcome of :func:`execute`.

    Attributes:
        entity: The entity name (the key of the row list in ``QueryResponse``).
        rows: This page's entities (copies; projected when the query named fields).
        count: Number of matches for ``COUNT(*)``, else None.
        start_position: The 1-based start used.
        max_results: The page size asked for (the response's ``maxResults`` is ``len(rows)``).
    """

    entity: str
    rows: list[dict[str, Any]] = dc_field(default_factory=list)
    count: int | None = None
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS

    def to_query_response(self) -> dict[str, Any]:
        """The ``QueryResponse`` object, shaped like ``samples/query.*.json``.

        Returns:
            ``{"totalCount": n}`` for ``COUNT(*)``; ``{}`` when the page is empty;
            otherwise ``{entity: rows, "startPosition": s, "maxResults": len(rows)}``
            (API.md §4.4: ``maxResults`` is the number of rows actually returned).
        """
        if self.count is not None:
            # Also for a count of 0: the sample shows only `totalCount`, and `{}` is the
            # no-rows answer of a row query (API.md §4.4).
            return {"totalCount": self.count}
        if not self.rows:
            return {}
        return {
            self.entity: self.rows,
            "startPosition": self.start_position,
            "maxResults": len(self.rows),
        }


def _lookup(row: dict[str, Any], key: str) -> Any:
    value = row.get(key, _MISSING)
    if value is _MISSING:
        # Property names are matched case-insensitively as a fallback; the exact spelling is
        # the fast path because that is what clients send.
        folded = key.casefold()
        for k, v in row.items():
            if isinstance(k, str) and k.casefold() == folded:
                return v
    return value


class _Fanout(tuple[Any, ...]):
    """The leaves a path reached through a list; a condition holds if it holds for any."""

    __slots__ = ()


def _leaf(value: Any) -> Any:
    # `VendorRef = '56'` compares the reference's value (API.md §4.2).
    if type(value) is dict:
        return value.get("value", value)
    return value


def _walk(value: Any, parts: tuple[str, ...]) -> Any:
    for index, part in enumerate(parts):
        if type(value) is list:
            return _fan_out(value, parts[index:])
        if type(value) is not dict:
            return _MISSING
        found = value.get(part, _MISSING)
        if found is _MISSING:
            found = _lookup(value, part)
            if found is _MISSING:
                return _MISSING
        value = found
    return _leaf(value)


def _fan_out(items: list[Any], parts: tuple[str, ...]) -> _Fanout:
    # `AttachableRef.EntityRef.value = '146'`: AttachableRef is a list, and QBO matches an
    # Attachable when any of its links matches (API.md §7.1).
    leaves: list[Any] = []
    for item in items:
        found = _walk(item, parts)
        if type(found) is _Fanout:
            leaves.extend(found)
        elif found is not _MISSING:
            leaves.append(found)
    return _Fanout(leaves)


def _getter(path: str) -> Callable[[dict[str, Any]], Any]:
    """Compile a dotted path into a function returning the leaf (a ref's ``value``).

    A path crossing a list returns a ``_Fanout`` of the leaves of every element.
    """
    parts = tuple(path.split("."))
    if len(parts) == 1:
        key = parts[0]

        def get_top(row: dict[str, Any]) -> Any:
            value = row.get(key, _MISSING)
            if value is _MISSING:
                value = _lookup(row, key)
            return _leaf(value)

        return get_top

    return lambda row: _walk(row, parts)


def _parse_datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _naive_local(moment: datetime) -> datetime:
    # Wall-clock time in the offset it was written in: MetaData times carry the company's
    # offset, so this is company-local time.
    return moment.replace(tzinfo=None)


@dataclass(frozen=True)
class _Literal:
    """A literal with every reading QBO's loose typing allows, worked out once per query."""

    text: str  # casefolded string form
    number: Decimal | None
    boolean: bool | None
    moment: datetime | None
    day: date | None
    quoted: bool

    @classmethod
    def of(cls, value: Value) -> _Literal:
        if isinstance(value, bool):
            return cls("true" if value else "false", None, value, None, None, False)
        if isinstance(value, Decimal):
            return cls(format(value, "f").casefold(), value, None, None, None, False)
        bare = value.strip()
        number = Decimal(bare) if _NUMBER_RE.match(bare) else None
        boolean = {"true": True, "false": False}.get(bare.casefold())
        moment = _parse_datetime(bare) if _DATETIME_RE.match(bare) else None
        day = None
        if _DATE_RE.match(bare):
            try:
                day = date.fromisoformat(bare)
            except ValueError:  # e.g. '2024-13-01': then it is just text
                day = None
        return cls(value.casefold(), number, boolean, moment, day, True)


def _sign(a: Any, b: Any) -> int | None:
    try:
        return int((a > b) - (a < b))
    except (TypeError, ArithmeticError):  # NaN amounts, odd stored types: no match, no 500
        return None


def _compare(raw: Any, lit: _Literal) -> int | None:
    """Three-way compare a row value with a literal; None when they cannot be compared."""
    if isinstance(raw, bool):
        return None if lit.boolean is None else _sign(raw, lit.boolean)
    if isinstance(raw, int | float | Decimal):
        if lit.number is None:
            return None
        return _sign(Decimal(str(raw)) if isinstance(raw, float) else raw, lit.number)
    if isinstance(raw, datetime):
        return _compare_moment(raw, lit)
    if isinstance(raw, date):
        return _compare_day(raw, lit)
    if isinstance(raw, str):
        if lit.moment is not None or lit.day is not None:
            if _looks_like_datetime(raw):
                moment = _parse_datetime(raw)
                if moment is not None:
                    return _compare_moment(moment, lit)
            elif _DATE_RE.match(raw):
                try:
                    return _compare_day(date.fromisoformat(raw), lit)
                except ValueError:
                    pass
        elif (
            lit.number is not None
            and (not lit.quoted or (raw.isascii() and raw.isdigit()))
            and _NUMBER_RE.match(raw)
        ):
            # Ids and amounts: `Id > '100'` and `TotalAmt > 300` compare as numbers.
            return _sign(Decimal(raw), lit.number)
        return _sign(raw.casefold(), lit.text)
    return None


def _compare_moment(moment: datetime, lit: _Literal) -> int | None:
    if lit.moment is not None:
        other = lit.moment
        if (moment.tzinfo is None) == (other.tzinfo is None):
            return _sign(moment, other)  # both aware: compared as instants
        # One side without offset: read it as wall-clock time in the other's zone.
        return _sign(_naive_local(moment), _naive_local(other))
    if lit.day is not None:
        # `MetaData.CreateTime >= '2024-01-01'` means from company-local midnight.
        return _sign(_naive_local(moment), datetime.combine(lit.day, datetime.min.time()))
    return None


def _compare_day(day: date, lit: _Literal) -> int | None:
    if lit.day is not None:
        return _sign(day, lit.day)
    if lit.moment is not None:
        return _sign(datetime.combine(day, datetime.min.time()), _naive_local(lit.moment))
    return None


_TESTS: Final[dict[str, Callable[[int], bool]]] = {
    "=": lambda c: c == 0,
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}

Predicate = Callable[[dict[str, Any]], bool]


def _like_matcher(pattern: str) -> Callable[[str], bool]:
    """Match QBO's LIKE (only ``%``, API.md §4.2), case-insensitively, in linear time.

    Greedy leftmost search of each literal piece is exact for a ``%``-only glob, and unlike a
    ``.*`` regex it cannot backtrack for seconds on a crafted pattern.
    """
    pieces = [piece.casefold() for piece in pattern.split("%")]
    first, last, middle = pieces[0], pieces[-1], pieces[1:-1]

    def match(text: str) -> bool:
        folded = text.casefold()
        if len(pieces) == 1:
            return folded == first
        if not folded.startswith(first) or not folded.endswith(last):
            return False
        at, end = len(first), len(folded) - len(last)
        if at > end:
            return False
        for piece in middle:
            found = folded.find(piece, at, end)
            if found < 0:
                return False
            at = found + len(piece)
        return True

    return match


def _on_rows(get: Callable[[dict[str, Any]], Any], test: Callable[[Any], bool]) -> Predicate:
    """Apply a test of one value to the value a row holds at a path (to any, after a list)."""

    def check(row: dict[str, Any]) -> bool:
        raw = get(row)
        if type(raw) is _Fanout:
            return any(test(value) for value in raw)
        return test(raw)

    return check


def _compile_condition(cond: Condition) -> Predicate:
    return _on_rows(_getter(cond.field), _value_test(cond))


def _value_test(cond: Condition) -> Callable[[Any], bool]:
    if cond.op == "LIKE":
        matches = _like_matcher(str(cond.value))

        def like(raw: Any) -> bool:
            if raw is _MISSING or raw is None or isinstance(raw, dict | list):
                return False
            if isinstance(raw, bool):
                raw = "true" if raw else "false"
            return matches(str(raw))

        return like

    if cond.op == "!=":
        # Not equal: a row holding the property with another value. A missing or null
        # property matches no condition, this one included (our reading, as SQL's NULL).
        same = _value_test(Condition(cond.field, "=", cond.values))

        def differs(raw: Any) -> bool:
            if raw is _MISSING or raw is None:
                return False
            return not same(raw)

        return differs

    literals = [_Literal.of(v) for v in cond.values]
    if cond.op in ("=", "IN") and all(
        lit.quoted and lit.moment is None and lit.day is None for lit in literals
    ):
        # Fast path for `DisplayName = '...'`, `VendorRef = '56'`, `Id IN (...)`: a stored
        # string equals a quoted literal when they match ignoring case; other stored types
        # (amounts, flags) take the typed comparison.
        wanted = frozenset(lit.text for lit in literals)

        def equals(raw: Any) -> bool:
            if type(raw) is str:
                return raw.casefold() in wanted
            if raw is _MISSING or raw is None:
                return False
            return any(_compare(raw, lit) == 0 for lit in literals)

        return equals

    if cond.op == "IN":

        def within(raw: Any) -> bool:
            if raw is _MISSING or raw is None:
                return False
            return any(_compare(raw, lit) == 0 for lit in literals)

        return within

    test = _TESTS[cond.op]
    literal = literals[0]

    def compare(raw: Any) -> bool:
        if raw is _MISSING or raw is None:
            return False
        outcome = _compare(raw, literal)
        return outcome is not None and test(outcome)

    return compare


def compile_where(conditions: Iterable[Condition]) -> Predicate:
    """Compile conditions into one predicate over entity dicts (all must hold).

    Semantics: a missing or null property never matches; a ``*Ref`` compares its ``value``;
    numbers compare as Decimal; datetimes as instants (or as company-local wall time against a
    date or an offset-less literal); dates as dates; booleans as booleans; everything else as
    case-insensitive strings. ``LIKE`` is case-insensitive with ``%`` as its only wildcard.
    """
    predicates = [_compile_condition(c) for c in conditions]
    if not predicates:
        return lambda row: True
    if len(predicates) == 1:
        return predicates[0]
    return lambda row: all(p(row) for p in predicates)


def _sort_key(raw: Any) -> tuple[int, Any]:
    # Ranks keep unlike types apart so any mix of rows sorts without a TypeError.
    if type(raw) is str:
        if raw.isascii() and raw.isdigit():  # Ids are digit strings; order them as numbers
            return (2, int(raw))
        if _looks_like_datetime(raw):
            moment = _parse_datetime(raw)
            if moment is not None:
                return _moment_key(moment)
        if _DATE_RE.match(raw):
            return (3, raw)
        return (5, (raw.casefold(), raw))
    if type(raw) is _Fanout:
        # Ordering by a path through a list: by its first element's value.
        return _sort_key(raw[0]) if raw else (0, 0)
    if raw is _MISSING or raw is None or isinstance(raw, dict | list):
        return (0, 0)
    if isinstance(raw, bool):
        return (1, raw)
    if isinstance(raw, int | float | Decimal):
        if raw.is_nan() if isinstance(raw, Decimal) else raw != raw:
            # NaN cannot be ordered; sort it like a missing value
            return (0, 0)
        return (2, Decimal(str(raw)) if isinstance(raw, float) else raw)
    if isinstance(raw, datetime):
        return _moment_key(raw)
    if isinstance(raw, date):
        return (3, raw.isoformat())
    return (5, (str(raw).casefold(), str(raw)))


def _moment_key(moment: datetime) -> tuple[int, Any]:
    if moment.tzinfo is None:
        return (4, (moment - datetime(1970, 1, 1)).total_seconds())  # noqa: DTZ001 - naive on purpose
    return (4, moment.timestamp())


def _key_for(path: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    get = _getter(path)
    return lambda row: _sort_key(get(row))


def check_fields(query: Query, known_fields: Collection[str]) -> None:
    """Refuse a query naming a property the entity does not have.

    Only the first segment of a dotted path is checked (``MetaData`` of
    ``MetaData.LastUpdatedTime``), case-insensitively.

    Args:
        query: The parsed query.
        known_fields: Top-level property names of ``query.entity`` (e.g. from the XSD).

    Raises:
        QueryFieldError: Naming the first unknown property.
    """
    known = {name.casefold() for name in known_fields}
    for path in query.referenced_fields():
        if path.split(".", 1)[0].casefold() not in known:
            raise QueryFieldError(path, query.entity)


def _project(row: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    # API.md §1.3: every entity in a response carries `domain` and `sparse`.
    out: dict[str, Any] = {k: row[k] for k in ("domain", "sparse") if k in row}
    for path in paths:
        source: Any = row
        target = out
        parts = path.split(".")
        for i, part in enumerate(parts):
            if not isinstance(source, dict):
                break
            key = (
                part
                if part in source
                else next((k for k in source if k.casefold() == part.casefold()), None)
            )
            if key is None:
                break
            source = source[key]
            if i == len(parts) - 1:
                target[key] = copy.deepcopy(source)
            else:
                target = target.setdefault(key, {})
    return out


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, immutable scalars), without deepcopy's memo.

    Stored records are plain JSON values (money as Decimal, which is immutable), so this copies
    a page several times faster than ``copy.deepcopy``.
    """
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    return value


def execute(
    query: Query,
    rows: Iterable[dict[str, Any]],
    *,
    known_fields: Collection[str] | None = None,
    active_default: bool = True,
) -> QueryResult:
    """Run a query over entities of ``query.entity``.

    Ordering: by the ``ORDERBY`` keys, ties (and queries without ``ORDERBY``) by numeric
    ``Id`` ascending. API.md §4.3 calls the order without ``ORDERBY`` unspecified; Id order
    keeps the emulator's paging deterministic. Missing values sort first (last with ``DESC``).

    Args:
        query: From :func:`parse`.
        rows: The realm's stored entities of that type, in QBO JSON shape (money may be
            Decimal). They are not modified; the result holds copies.
        known_fields: When given, the entity's top-level property names; naming another
            property raises :class:`QueryFieldError`.
        active_default: Apply API.md §4.5: for name lists (Customer, Vendor, Employee, Item,
            Account, Class) keep only ``Active`` records unless a condition names ``Active``.

    Returns:
        The page (or the count for ``COUNT(*)``, which ignores paging).

    Raises:
        QueryFieldError: See ``known_fields``.
    """
    if known_fields is not None:
        check_fields(query, known_fields)
    predicate = compile_where(query.where)
    if (
        active_default
        and query.entity.casefold() in NAME_LIST_ENTITIES
        and not any(c.field.casefold() == "active" for c in query.where)
    ):
        filtered = predicate

        def predicate(row: dict[str, Any]) -> bool:
            # Records that do not say are active (QBO's default for `Active`).
            return row.get("Active", True) is not False and filtered(row)

    matched = [row for row in rows if predicate(row)]
    if query.count:
        return QueryResult(
            entity=query.entity,
            count=len(matched),
            start_position=query.start,
            max_results=query.limit,
        )

    # Stable sorts from the least significant key up: ties end in Id order.
    matched.sort(key=_key_for("Id"))
    for key in reversed(query.order):
        matched.sort(key=_key_for(key.field), reverse=key.descending)

    page = matched[query.start - 1 : query.start - 1 + query.limit]
    if query.fields:
        out = [_project(row, query.fields) for row in page]
    else:
        out = [json_copy(row) for row in page]
    return QueryResult(
        entity=query.entity, rows=out, start_position=query.start, max_results=query.limit
    )
