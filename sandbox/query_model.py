"""The QBO query language's vocabulary: limits, the AST and the errors every stage raises.

Errors, and what the REST layer should make of them:

* :class:`QueryParseError` — the text is not a query QBO accepts (syntax, ``OR``, parentheses,
  ``MAXRESULTS`` over 1000, ...). Fault code ``4000``, Message ``Error parsing query`` (API.md
  §3.2, wording marked unconfirmed there): ``faults.parser_error(exc.message)``.
* :class:`QueryFieldError` — the query names a property the entity does not have. Raised only
  by ``execute``/``check_fields`` when given ``known_fields``. Carries ``field`` and
  ``entity``; ``code``, ``title`` and ``detail`` hold the Fault's code, Message and Detail.

Both derive from :class:`QueryError`, so ``except QueryError`` covers every refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from sandbox.entity_table import TABLE

#: API.md §4.3: "MAXRESULTS default 100, maximum 1000".
DEFAULT_MAX_RESULTS: Final = 100
MAX_MAX_RESULTS: Final = 1000

#: API.md §4.5: a query on these returns only active records unless it filters on ``Active``.
NAME_LIST_ENTITIES: Final = frozenset(
    {"customer", "vendor", "employee", "item", "account", "class"}
    | {name.casefold() for name, rules in TABLE.items() if rules.active_default}
)

#: A literal in a condition: a quoted string, a bare number, or ``true``/``false``.
#: Quoted numbers stay strings (``TotalAmt > '300.00'``); evaluation coerces them.
Value = str | Decimal | bool

OPERATORS: Final = ("=", "!=", "<", ">", "<=", ">=", "IN", "LIKE")


# --------------------------------------------------------------------------------------------
# Errors


class QueryError(Exception):
    """A query QBO would refuse.

    Attributes:
        message: The Fault Detail without its leading ``<kind>: `` tag, which is what
            ``faults.parser_error(detail)`` expects (it adds ``QueryParserError: ``).
        detail: The full Detail as QBO writes it, tag included.
        code: The Fault ``code``.
        title: The Fault ``Message``.
    """

    code: str = "4000"
    title: str = "Error parsing query"
    kind: str = "QueryParserError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def detail(self) -> str:
        """The Fault Detail, e.g. ``QueryParserError: Encountered "OR" at line 1, ...``."""
        return f"{self.kind}: {self.message}"

    def __str__(self) -> str:
        return self.detail


class QueryParseError(QueryError):
    """The statement does not parse, or breaks a rule QBO checks while parsing.

    Fault code ``4000``, Message ``Error parsing query`` (API.md §3.2, "QueryParserError /
    Error parsing query"). The message imitates QBO's JavaCC-style detail:
    ``Encountered "OR" at line 1, column 40. Was expecting one of: ...``, plus a plain hint
    when the culprit is something QBO's dialect lacks (OR, NOT, joins, functions).
    """


class QueryFieldError(QueryError):
    """The query names a property the entity does not have.

    API.md §4.2 only says such queries get "a 4000-series parse/validation fault (unconfirmed
    exact code)". QBO answers them with Message ``Invalid query``, code ``4001`` and Detail
    ``QueryValidationError: property 'X' is not queryable`` (observed QBO responses, not
    API.md), so that is what this carries; ``faults.parser_error`` (4000) is the fallback if
    the REST layer prefers to stay within API.md.
    """

    code = "4001"
    title = "Invalid query"
    kind = "QueryValidationError"

    def __init__(self, field: str, entity: str) -> None:
        super().__init__(f"property '{field}' is not queryable")
        self.field = field
        self.entity = entity


# --------------------------------------------------------------------------------------------
# AST


@dataclass(frozen=True)
class Condition:
    """One ``WHERE`` term: ``field op value`` or ``field IN (values...)``.

    Attributes:
        field: Dotted property path as written, e.g. ``MetaData.LastUpdatedTime``.
        op: One of ``=``, ``!=``, ``<``, ``>``, ``<=``, ``>=``, ``IN``, ``LIKE``.
        values: The literal(s); exactly one unless ``op`` is ``IN``.
    """

    field: str
    op: str
    values: tuple[Value, ...]

    @property
    def value(self) -> Value:
        """The single literal of a non-``IN`` condition."""
        return self.values[0]


@dataclass(frozen=True)
class Order:
    """One ``ORDERBY`` key."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed ``SELECT``.

    Attributes:
        entity: Entity name as written (``Bill``); the REST layer may ``dataclasses.replace``
            it with the canonical spelling before :func:`execute`.
        fields: Projected properties; empty for ``*`` and for ``COUNT(*)``.
        extra: Properties named after ``*`` (``SELECT *, Sku FROM Item``, as python-quickbooks
            sends): checked like any field; the answer is the whole object, as for ``*``.
        count: True for ``SELECT COUNT(*)``.
        where: Conditions, all of which must hold.
        order: ``ORDERBY`` keys, most significant first.
        start_position: ``STARTPOSITION`` as written (1-based), None when absent.
        max_results: ``MAXRESULTS`` as written, None when absent.
    """

    entity: str
    fields: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    count: bool = False
    where: tuple[Condition, ...] = ()
    order: tuple[Order, ...] = ()
    start_position: int | None = None
    max_results: int | None = None

    @property
    def start(self) -> int:
        """The effective 1-based start position."""
        return 1 if self.start_position is None else self.start_position

    @property
    def limit(self) -> int:
        """The effective page size."""
        return DEFAULT_MAX_RESULTS if self.max_results is None else self.max_results

    def referenced_fields(self) -> tuple[str, ...]:
        """Every property path the query names, in order of appearance."""
        return (
            self.fields
            + self.extra
            + tuple(c.field for c in self.where)
            + tuple(o.field for o in self.order)
        )
