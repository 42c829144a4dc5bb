"""Parsing and rendering the QBO query language (API.md §4.2).

A lark LALR grammar builds the frozen dataclasses of ``query_model`` while it parses (no tree
is kept); refusals imitate QBO's JavaCC-style details. ``render`` writes an AST back as text,
such that ``parse(render(q)) == q``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from typing import Final
from typing import cast

from lark import Lark
from lark import Token
from lark import Transformer
from lark import v_args
from lark.exceptions import LarkError
from lark.exceptions import UnexpectedCharacters
from lark.exceptions import UnexpectedEOF
from lark.exceptions import UnexpectedInput
from lark.exceptions import UnexpectedToken

from sandbox.query_model import MAX_MAX_RESULTS
from sandbox.query_model import Condition
from sandbox.query_model import Order
from sandbox.query_model import Query
from sandbox.query_model import QueryParseError
from sandbox.query_model import Value

# Keywords are case-insensitive string terminals; lark turns an identifier that spells one into
# the keyword, so `ANDROID` stays a NAME while `and` is AND. `ORDER BY` (two words) is as common
# in clients as `ORDERBY` (API.md §13), hence the regex with its higher priority.
GRAMMAR: Final = r"""
query: SELECT selection FROM NAME where? orderby? paging?

selection: "*"                            -> select_all
         | "*" ("," field)+               -> select_all_plus
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

COMPOP: "<=" | ">=" | "!=" | "=" | "<" | ">"
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
    "!": "QBO queries support =, !=, <, >, <=, >=, IN and LIKE only.",
    "<>": "QBO queries write 'not equal' as !=.",
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
        extra: tuple[str, ...] = ()
        if fields and fields[0] == "*":
            fields, extra = (), fields[1:]
        return Query(
            entity=str(entity),
            fields=fields,
            extra=extra,
            count=count,
            where=where,
            order=order,
            start_position=paging.get("start"),
            max_results=paging.get("max"),
        )

    def select_all(self) -> tuple[bool, tuple[str, ...]]:
        return False, ()

    def select_all_plus(self, *fields: str) -> tuple[bool, tuple[str, ...]]:
        return False, ("*", *fields)

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
    "COMPOP": '"=", "!=", "<", ">", "<=", ">="',
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
        found = _word_at(text, exc.pos_in_stream or 0)
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
        query = cast(Query, _PARSER.parse(text))  # the Transformer builds the Query
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
        selection = ", ".join(("*", *query.extra))
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
