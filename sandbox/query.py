"""The QBO query language: grammar, AST, renderer and evaluator.

QBO's ``/query`` endpoint takes a small SQL dialect (``../shared/qbo/API.md`` §4.2): one entity,
``AND``-only conditions, ``ORDERBY``, 1-based ``STARTPOSITION`` and ``MAXRESULTS`` up to 1000.
This module parses it with a lark LALR grammar into frozen dataclasses, renders an AST back to
text (``parse(render(q)) == q``), and evaluates a query over entity dicts in QBO JSON shape.

Errors, and what the REST layer should make of them:

* :class:`QueryParseError` — the text is not a query QBO accepts (syntax, ``OR``, parentheses,
  ``MAXRESULTS`` over 1000, ...). Fault code ``4000``, Message ``Error parsing query`` (API.md
  §3.2, wording marked unconfirmed there): ``faults.parser_error(exc.message)``.
* :class:`QueryFieldError` — the query names a property the entity does not have. Raised only
  by :func:`execute`/:func:`check_fields` when given ``known_fields``. Carries ``field`` and
  ``entity``; ``code``, ``title`` and ``detail`` hold the Fault's code, Message and Detail.

Both derive from :class:`QueryError`, so ``except QueryError`` covers every refusal.
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

from lark import Lark
from lark import Token
from lark import Transformer
from lark import v_args
from lark.exceptions import LarkError
from lark.exceptions import UnexpectedCharacters
from lark.exceptions import UnexpectedEOF
from lark.exceptions import UnexpectedInput
from lark.exceptions import UnexpectedToken

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "MAX_MAX_RESULTS",
    "NAME_LIST_ENTITIES",
    "Condition",
    "Order",
    "Query",
    "QueryError",
    "QueryFieldError",
    "QueryParseError",
    "QueryResult",
    "Value",
    "check_fields",
    "compile_where",
    "execute",
    "parse",
    "render",
]

#: API.md §4.3: "MAXRESULTS default 100, maximum 1000".
DEFAULT_MAX_RESULTS: Final = 100
MAX_MAX_RESULTS: Final = 1000

#: API.md §4.5: a query on these returns only active records unless it filters on ``Active``.
NAME_LIST_ENTITIES: Final = frozenset(
    {"customer", "vendor", "employee", "item", "account", "class"}
)

#: A literal in a condition: a quoted string, a bare number, or ``true``/``false``.
#: Quoted numbers stay strings (``TotalAmt > '300.00'``); evaluation coerces them.
Value = str | Decimal | bool

OPERATORS: Final = ("=", "<", ">", "<=", ">=", "IN", "LIKE")


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
        op: One of ``=``, ``<``, ``>``, ``<=``, ``>=``, ``IN``, ``LIKE``.
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
        count: True for ``SELECT COUNT(*)``.
        where: Conditions, all of which must hold.
        order: ``ORDERBY`` keys, most significant first.
        start_position: ``STARTPOSITION`` as written (1-based), None when absent.
        max_results: ``MAXRESULTS`` as written, None when absent.
    """

    entity: str
    fields: tuple[str, ...] = ()
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
        return self.fields + tuple(c.field for c in self.where) + tuple(o.field for o in self.order)


# --------------------------------------------------------------------------------------------
# Grammar

# Keywords are case-insensitive string terminals; lark turns an identifier that spells one into
# the keyword, so `ANDROID` stays a NAME while `and` is AND. `ORDER BY` (two words) is as common
# in clients as `ORDERBY` (API.md §13), hence the regex with its higher priority.
GRAMMAR: Final = r"""
query: SELECT selection FROM NAME where? orderby? paging?

selection: "*"                            -> select_all
         | COUNT "(" "*" ")"              -> select_count
         | field ("," field)*             -> select_fields

where: WHERE cond (AND cond)*
cond: field COMPOP value                  -> compare
    | field IN "(" value ("," value)* ")" -> in_list
    | field LIKE STRING                   -> like

orderby: ORDERBY order_key ("," order_key)*
order_key: field (ASC | DESC)?

paging: startpos maxres?
      | maxres startpos?
startpos: STARTPOSITION INT
maxres: MAXRESULTS INT

field: NAME ("." NAME)*

value: STRING                             -> string
     | NUMBER                             -> number
     | TRUE                               -> true
     | FALSE                              -> false

SELECT: "select"i
FROM: "from"i
WHERE: "where"i
AND: "and"i
IN: "in"i
LIKE: "like"i
COUNT: "count"i
ASC: "asc"i
DESC: "desc"i
TRUE: "true"i
FALSE: "false"i
STARTPOSITION: "startposition"i
MAXRESULTS: "maxresults"i
ORDERBY.2: /order[ \t\r\n]*by(?![A-Za-z0-9_])/i

COMPOP: "<=" | ">=" | "=" | "<" | ">"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
INT: /[0-9]+/
NUMBER: /[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)/
STRING: /'(?:[^'\\]|\\.)*'/s

%ignore /[ \t\r\n]+/
"""

_ESCAPE = re.compile(r"\\(.)", re.DOTALL)

# Words that name things QBO's dialect lacks; an error on one of them gets a plain hint.
_UNSUPPORTED_HINTS: Final = {
    "OR": "QBO queries combine conditions with AND only; OR is not supported.",
    "NOT": "QBO queries do not support NOT.",
    "JOIN": "QBO queries read one entity; joins are not supported.",
    "INNER": "QBO queries read one entity; joins are not supported.",
    "LEFT": "QBO queries read one entity; joins are not supported.",
    "GROUP": "QBO queries do not support GROUP BY.",
    "HAVING": "QBO queries do not support HAVING.",
    "LIMIT": "Use MAXRESULTS (and STARTPOSITION) instead of LIMIT.",
    "OFFSET": "Use STARTPOSITION (1-based) instead of OFFSET.",
    "(": "QBO allows parentheses only around an IN list and in COUNT(*): no grouping and no "
    "other functions.",
    "'": "The string literal is not closed; write an apostrophe inside it as \\'.",
    "!": "QBO queries support =, <, >, <=, >=, IN and LIKE only.",
    "!=": "QBO queries support =, <, >, <=, >=, IN and LIKE only.",
    "<>": "QBO queries support =, <, >, <=, >=, IN and LIKE only.",
    '"': "String literals use single quotes; escape an apostrophe as \\'.",
}


@v_args(inline=True)
class _ToAst(Transformer[Token, Any]):
    """Builds the dataclasses while the LALR parser reduces (no tree is kept)."""

    def query(
        self,
        _select: Token,
        selection: tuple[bool, tuple[str, ...]],
        _from: Token,
        entity: Token,
        *rest: Any,
    ) -> Query:
        where: tuple[Condition, ...] = ()
        order: tuple[Order, ...] = ()
        paging: dict[str, int] = {}
        for part in rest:
            if isinstance(part, dict):
                paging = part
            elif part and isinstance(part[0], Condition):
                where = part
            else:
                order = part
        count, fields = selection
        return Query(
            entity=str(entity),
            fields=fields,
            count=count,
            where=where,
            order=order,
            start_position=paging.get("start"),
            max_results=paging.get("max"),
        )

    def select_all(self) -> tuple[bool, tuple[str, ...]]:
        return False, ()

    def select_count(self, _count: Token) -> tuple[bool, tuple[str, ...]]:
        return True, ()

    def select_fields(self, *fields: str) -> tuple[bool, tuple[str, ...]]:
        return False, fields

    def where(self, _where: Token, *items: Any) -> tuple[Condition, ...]:
        return tuple(i for i in items if isinstance(i, Condition))

    def compare(self, path: str, op: Token, value: Value) -> Condition:
        return Condition(path, str(op), (value,))

    def in_list(self, path: str, _in: Token, *values: Value) -> Condition:
        return Condition(path, "IN", values)

    def like(self, path: str, _like: Token, pattern: Token) -> Condition:
        return Condition(path, "LIKE", (_unquote(pattern),))

    def orderby(self, _orderby: Token, *keys: Order) -> tuple[Order, ...]:
        return keys

    def order_key(self, path: str, direction: Token | None = None) -> Order:
        return Order(path, direction is not None and direction.type == "DESC")

    def paging(self, *parts: tuple[str, int]) -> dict[str, int]:
        return dict(parts)

    def startpos(self, _kw: Token, n: Token) -> tuple[str, int]:
        return "start", int(n)

    def maxres(self, _kw: Token, n: Token) -> tuple[str, int]:
        return "max", int(n)

    def field(self, *names: Token) -> str:
        return ".".join(names)

    def string(self, tok: Token) -> str:
        return _unquote(tok)

    def number(self, tok: Token) -> Decimal:
        return Decimal(tok)

    def true(self, _tok: Token) -> bool:
        return True

    def false(self, _tok: Token) -> bool:
        return False


def _unquote(tok: str) -> str:
    # Any backslash escapes the next character (`\'` -> `'`, `\\` -> `\`), as clients write it
    # (API.md §4.2 and §13); there are no named escapes such as `\n`.
    return _ESCAPE.sub(r"\1", tok[1:-1])


_PARSER: Final = Lark(
    GRAMMAR, start="query", parser="lalr", transformer=_ToAst(), maybe_placeholders=False
)

_TERMINAL_LABELS: Final = {
    "NAME": "<IDENTIFIER>",
    "INT": "<INTEGER>",
    "NUMBER": "<NUMBER>",
    "STRING": "<STRING>",
    "COMPOP": '"=", "<", ">", "<=", ">="',
    "ORDERBY": '"ORDERBY"',
    "$END": "<EOF>",
}


def _label(terminal: str) -> str:
    if terminal in _TERMINAL_LABELS:
        return _TERMINAL_LABELS[terminal]
    try:
        pattern = _PARSER.get_terminal(terminal).pattern
    except KeyError:
        return terminal
    return f'"{pattern.value.upper()}"'


def _parse_error(text: str, exc: UnexpectedInput) -> QueryParseError:
    line, column = exc.line, exc.column
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        found = "<EOF>"
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    elif isinstance(exc, UnexpectedToken):
        found = str(exc.token)
    elif isinstance(exc, UnexpectedCharacters):
        found = _word_at(text, exc.pos_in_stream)
    else:  # pragma: no cover - lark raises only the three above
        found = "?"
    labels = sorted({_label(t) for t in _expected_terminals(exc)})
    shown = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in found
    ).replace('"', '\\"')
    message = f'Encountered "{shown}" at line {line}, column {column}.'
    if labels:
        message += " Was expecting one of: " + ", ".join(labels) + "."
    hint = _UNSUPPORTED_HINTS.get(found.upper()) or _first_unsupported_hint(text)
    if hint:
        message += " " + hint
    return QueryParseError(message)


def _expected_terminals(exc: UnexpectedInput) -> set[str]:
    # Ask the parser what its state accepts: the lexer's `allowed` set is shared between
    # parser states and would list terminals that cannot come next.
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        try:
            return set(interactive.accepts())
        except LarkError:  # pragma: no cover - fall back to what the exception says
            pass
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        return set(exc.expected)
    if isinstance(exc, UnexpectedCharacters):
        return set(exc.allowed or ())
    return set()  # pragma: no cover


_WORDS_OUTSIDE_STRINGS: Final = re.compile(r"'(?:[^'\\]|\\.)*'?|[A-Za-z0-9_]+|!=|<>|[(!\"]")
_WORD_AT: Final = re.compile(r"[A-Za-z0-9_]+|!=|<>|\S")


def _first_unsupported_hint(text: str) -> str | None:
    # `NOT a = 1` fails on `a` (NOT reads as a field name), so look for the culprit word too.
    for match in _WORDS_OUTSIDE_STRINGS.finditer(text):
        hint = _UNSUPPORTED_HINTS.get(match.group(0).upper())
        if hint and match.group(0) != "(":
            return hint
    return None


def _word_at(text: str, pos: int) -> str:
    match = _WORD_AT.match(text, pos)
    return match.group(0) if match else "<EOF>"


def parse(text: str) -> Query:
    """Parse a QBO ``SELECT`` statement.

    Args:
        text: The statement as the client sent it (GET ``query=`` or the POSTed body).

    Returns:
        The query AST.

    Raises:
        QueryParseError: For anything QBO's parser refuses, including ``OR``, ``NOT``,
            parentheses, joins, functions other than ``COUNT(*)``, ``MAXRESULTS`` outside
            1..1000 and ``STARTPOSITION`` below 1. Never any other exception.
    """
    if not isinstance(text, str):
        raise QueryParseError("the query must be text")
    try:
        query: Query = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _parse_error(text, exc) from None
    except LarkError as exc:  # pragma: no cover - defensive: keep the one-exception contract
        raise QueryParseError(str(exc)) from None
    if query.max_results is not None and not 1 <= query.max_results <= MAX_MAX_RESULTS:
        raise QueryParseError(
            f"MAXRESULTS must be between 1 and {MAX_MAX_RESULTS}; got {query.max_results}."
        )
    if query.start_position is not None and query.start_position < 1:
        raise QueryParseError(
            f"STARTPOSITION is 1-based and must be at least 1; got {query.start_position}."
        )
    return query


# --------------------------------------------------------------------------------------------
# Rendering


def _render_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        # Fixed-point: the grammar has no exponent form.
        return format(value, "f")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render(query: Query) -> str:
    """Write a query back as QBO text, such that ``parse(render(q)) == q``.

    Args:
        query: The AST; names must be identifiers, as :func:`parse` produces.

    Returns:
        One line using ``ORDERBY`` and upper-case keywords.
    """
    if query.count:
        selection = "COUNT(*)"
    elif query.fields:
        selection = ", ".join(query.fields)
    else:
        selection = "*"
    # Not SQL sent to a database: this writes the QBO dialect for round-trips and tests.
    parts = [f"SELECT {selection} FROM {query.entity}"]  # noqa: S608
    if query.where:
        terms = []
        for cond in query.where:
            if cond.op == "IN":
                values = ", ".join(_render_value(v) for v in cond.values)
                terms.append(f"{cond.field} IN ({values})")
            else:
                terms.append(f"{cond.field} {cond.op} {_render_value(cond.value)}")
        parts.append("WHERE " + " AND ".join(terms))
    if query.order:
        keys = ", ".join(f"{o.field} DESC" if o.descending else o.field for o in query.order)
        parts.append("ORDERBY " + keys)
    if query.start_position is not None:
        parts.append(f"STARTPOSITION {query.start_position}")
    if query.max_results is not None:
        parts.append(f"MAXRESULTS {query.max_results}")
    return " ".join(parts)


# --------------------------------------------------------------------------------------------
# Evaluation

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


def _getter(path: str) -> Callable[[dict[str, Any]], Any]:
    """Compile a dotted path into a function returning the leaf (a ref's ``value``)."""
    parts = path.split(".")
    if len(parts) == 1:
        key = parts[0]

        def get_top(row: dict[str, Any]) -> Any:
            value = row.get(key, _MISSING)
            if value is _MISSING:
                value = _lookup(row, key)
            # `VendorRef = '56'` compares the reference's value (API.md §4.2).
            if type(value) is dict:
                return value.get("value", value)
            return value

        return get_top

    def get(row: dict[str, Any]) -> Any:
        value: Any = row
        for part in parts:
            if type(value) is not dict:
                return _MISSING
            found = value.get(part, _MISSING)
            if found is _MISSING:
                found = _lookup(value, part)
                if found is _MISSING:
                    return _MISSING
            value = found
        if type(value) is dict:
            return value.get("value", value)
        return value

    return get


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
        return (a > b) - (a < b)
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


def _like_regex(pattern: str) -> re.Pattern[str]:
    # QBO knows only `%` (API.md §4.2); `_` and everything else match themselves.
    body = ".*".join(re.escape(piece) for piece in pattern.split("%"))
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def _compile_condition(cond: Condition) -> Predicate:
    get = _getter(cond.field)
    if cond.op == "LIKE":
        regex = _like_regex(str(cond.value))

        def like(row: dict[str, Any]) -> bool:
            raw = get(row)
            if raw is _MISSING or raw is None or isinstance(raw, dict | list):
                return False
            if isinstance(raw, bool):
                raw = "true" if raw else "false"
            return regex.fullmatch(str(raw)) is not None

        return like

    literals = [_Literal.of(v) for v in cond.values]
    if cond.op in ("=", "IN") and all(
        lit.quoted and lit.moment is None and lit.day is None for lit in literals
    ):
        # Fast path for `DisplayName = '...'`, `VendorRef = '56'`, `Id IN (...)`: a stored
        # string equals a quoted literal when they match ignoring case; other stored types
        # (amounts, flags) take the typed comparison.
        wanted = frozenset(lit.text for lit in literals)

        def equals(row: dict[str, Any]) -> bool:
            raw = get(row)
            if type(raw) is str:
                return raw.casefold() in wanted
            if raw is _MISSING or raw is None:
                return False
            return any(_compare(raw, lit) == 0 for lit in literals)

        return equals

    if cond.op == "IN":

        def within(row: dict[str, Any]) -> bool:
            raw = get(row)
            if raw is _MISSING or raw is None:
                return False
            return any(_compare(raw, lit) == 0 for lit in literals)

        return within

    test = _TESTS[cond.op]
    literal = literals[0]

    def compare(row: dict[str, Any]) -> bool:
        raw = get(row)
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
        out = [copy.deepcopy(row) for row in page]
    return QueryResult(
        entity=query.entity, rows=out, start_position=query.start, max_results=query.limit
    )
