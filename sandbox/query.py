"""The QBO query language: grammar, AST, renderer and evaluator.

QBO's ``/query`` endpoint takes a small SQL dialect (``../shared/qbo/API.md`` §4.2): one entity,
``AND``-only conditions, ``ORDERBY``, 1-based ``STARTPOSITION`` and ``MAXRESULTS`` up to 1000.
This module is the public face of three others:

* ``query_model`` — limits, the AST (frozen dataclasses) and the errors (``QueryError``,
  ``QueryParseError`` -> Fault 4000, ``QueryFieldError`` -> Fault 4001);
* ``query_parser`` — the lark grammar, ``parse`` and ``render`` (``parse(render(q)) == q``);
* ``query_eval`` — ``execute`` over entity dicts in QBO JSON shape, ``QueryResult``.
"""

from __future__ import annotations

from sandbox.query_eval import QueryResult
from sandbox.query_eval import check_fields
from sandbox.query_eval import compile_where
from sandbox.query_eval import execute
from sandbox.query_model import DEFAULT_MAX_RESULTS
from sandbox.query_model import MAX_MAX_RESULTS
from sandbox.query_model import NAME_LIST_ENTITIES
from sandbox.query_model import OPERATORS
from sandbox.query_model import Condition
from sandbox.query_model import Order
from sandbox.query_model import Query
from sandbox.query_model import QueryError
from sandbox.query_model import QueryFieldError
from sandbox.query_model import QueryParseError
from sandbox.query_model import Value
from sandbox.query_parser import GRAMMAR
from sandbox.query_parser import parse
from sandbox.query_parser import render

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "GRAMMAR",
    "MAX_MAX_RESULTS",
    "NAME_LIST_ENTITIES",
    "OPERATORS",
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
