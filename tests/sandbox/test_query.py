"""The sandbox's QBO query language: grammar, rendering and evaluation (API.md §4)."""

# The f-strings below build QBO query text for an in-memory evaluator, not SQL for a database.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import json
import re
import time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from costbridge_testing.shared import samples_dir
from sandbox.query import MAX_MAX_RESULTS
from sandbox.query import Condition
from sandbox.query import Order
from sandbox.query import Query
from sandbox.query import QueryError
from sandbox.query import QueryFieldError
from sandbox.query import QueryParseError
from sandbox.query import QueryResult
from sandbox.query import check_fields
from sandbox.query import execute
from sandbox.query import parse
from sandbox.query import render

SAMPLES = samples_dir()
FUZZ = settings(derandomize=True, deadline=None, max_examples=300)


def vendor(id_: int, name: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Id": str(id_),
        "SyncToken": "0",
        "domain": "QBO",
        "sparse": False,
        "DisplayName": name,
        "Active": True,
        "Balance": Decimal("0"),
        "MetaData": {
            "CreateTime": "2024-05-14T09:12:44-07:00",
            "LastUpdatedTime": "2024-05-14T09:12:44-07:00",
        },
    }
    row.update(extra)
    return row


def bill(id_: int, total: str, vendor_id: str = "56", **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Id": str(id_),
        "SyncToken": "0",
        "domain": "QBO",
        "sparse": False,
        "VendorRef": {"value": vendor_id, "name": f"Vendor {vendor_id}"},
        "TxnDate": "2024-05-14",
        "TotalAmt": Decimal(total),
        "DocNumber": f"INV-{id_}",
        "MetaData": {
            "CreateTime": "2024-05-14T09:12:44-07:00",
            "LastUpdatedTime": "2024-05-14T09:12:44-07:00",
        },
    }
    row.update(extra)
    return row


def ids(result: QueryResult) -> list[str]:
    return [row["Id"] for row in result.rows]


def run(text: str, rows: list[dict[str, Any]]) -> QueryResult:
    return execute(parse(text), rows)


# --------------------------------------------------------------------------------------------
# Grammar: what parses, into what


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * FROM Bill", Query("Bill")),
        ("select * from Bill", Query("Bill")),
        ("SeLeCt COUNT(*) FrOm Bill", Query("Bill", count=True)),
        ("SELECT count( * ) FROM Bill", Query("Bill", count=True)),
        ("SELECT Id, SyncToken FROM Bill", Query("Bill", fields=("Id", "SyncToken"))),
        (
            "SELECT * FROM Bill WHERE MetaData.LastUpdatedTime > '2015-03-01T00:00:00-08:00'",
            Query(
                "Bill",
                where=(Condition("MetaData.LastUpdatedTime", ">", ("2015-03-01T00:00:00-08:00",)),),
            ),
        ),
        (
            "SELECT * FROM Bill WHERE TotalAmt >= 300.50 AND VendorRef = '56'",
            Query(
                "Bill",
                where=(
                    Condition("TotalAmt", ">=", (Decimal("300.50"),)),
                    Condition("VendorRef", "=", ("56",)),
                ),
            ),
        ),
        (
            "SELECT * FROM Bill WHERE Balance<=-1.5 and TotalAmt<'300.00'",
            Query(
                "Bill",
                where=(
                    Condition("Balance", "<=", (Decimal("-1.5"),)),
                    Condition("TotalAmt", "<", ("300.00",)),
                ),
            ),
        ),
        (
            "SELECT * FROM Customer WHERE Active IN (true, FALSE)",
            Query("Customer", where=(Condition("Active", "IN", (True, False)),)),
        ),
        (
            "SELECT * FROM Bill WHERE Id IN ('1','2', '3')",
            Query("Bill", where=(Condition("Id", "IN", ("1", "2", "3")),)),
        ),
        (
            "SELECT * FROM Vendor WHERE DisplayName LIKE 'Hill%'",
            Query("Vendor", where=(Condition("DisplayName", "LIKE", ("Hill%",)),)),
        ),
        (
            "SELECT * FROM Bill ORDERBY MetaData.LastUpdatedTime DESC, Id ASC",
            Query("Bill", order=(Order("MetaData.LastUpdatedTime", True), Order("Id"))),
        ),
        (
            "SELECT * FROM Bill STARTPOSITION 101 MAXRESULTS 100",
            Query("Bill", start_position=101, max_results=100),
        ),
        (
            "SELECT * FROM Bill MAXRESULTS 5 STARTPOSITION 11",
            Query("Bill", start_position=11, max_results=5),
        ),
        (
            "SELECT *\nFROM Bill\n\tWHERE Id = '1'\nMAXRESULTS 1000",
            Query("Bill", where=(Condition("Id", "=", ("1",)),), max_results=1000),
        ),
        # An identifier that merely starts with a keyword stays an identifier.
        (
            "SELECT * FROM Bill WHERE Android = 'x' ORDERBY Ordering",
            Query("Bill", where=(Condition("Android", "=", ("x",)),), order=(Order("Ordering"),)),
        ),
    ],
)
def test_statement_parses_into_its_ast(text: str, expected: Query) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "spelling", ["ORDERBY", "ORDER BY", "order by", "OrderBy", "ORDER\n  BY", "ORDER\tBY"]
)
def test_both_order_by_spellings_parse_the_same(spelling: str) -> None:
    query = parse(f"SELECT * FROM Bill {spelling} TxnDate DESC, Id")
    assert query.order == (Order("TxnDate", True), Order("Id"))


def test_escaped_apostrophe_from_batch_sample_parses() -> None:
    sample = SAMPLES / "batch.request.json"
    if not sample.exists():
        pytest.skip("shared QBO samples not available")
    items = json.loads(sample.read_text(encoding="utf-8"))["BatchItemRequest"]
    text = next(item["Query"] for item in items if "Query" in item)
    assert parse(text).where == (Condition("DisplayName", "=", ("O'Brien Framing",)),)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r"'O\'Brien & Sons'", "O'Brien & Sons"),
        ("'Café Ñandú'", "Café Ñandú"),
        (r"'back\\slash'", "back\\slash"),
        (r"'\\\''", "\\'"),
        ("''", ""),
        (r"'100\%'", "100%"),
        ("'日本語 😀'", "日本語 😀"),
    ],
)
def test_string_literal_escapes(literal: str, value: str) -> None:
    assert parse(f"SELECT * FROM Vendor WHERE DisplayName = {literal}").where[0].value == value


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", '"<EOF>" at line 1, column 1'),
        ("SELECT * FROM Bill WHERE Id = '1' OR Id = '2'", "OR is not supported"),
        ("SELECT * FROM Bill WHERE (Id = '1')", "parentheses only around an IN list"),
        ("SELECT * FROM Bill WHERE NOT Id = '1'", "do not support NOT"),
        ("SELECT * FROM Bill WHERE Id <> '1'", 'Encountered ">"'),
        ("SELECT * FROM Bill WHERE Id <> '1'", "write 'not equal' as !="),
        ("SELECT * FROM Bill b JOIN Vendor v", "joins are not supported"),
        ("SELECT * FROM Bill, Vendor", 'Encountered ","'),
        ("SELECT SUM(TotalAmt) FROM Bill", "no grouping and no other functions"),
        ("SELECT COUNT(Id) FROM Bill", 'Encountered "Id"'),
        ("SELECT * FROM Bill GROUP BY VendorRef", "GROUP BY"),
        ("SELECT * FROM Bill LIMIT 10", "instead of LIMIT"),
        ("SELECT * FROM Bill WHERE TotalAmt > 1 + 2", 'Encountered "+"'),
        ("SELECT * FROM Bill WHERE Id IN (SELECT Id FROM Bill)", "SELECT"),
        ("SELECT * FROM Bill WHERE Id IN ()", 'Encountered ")"'),
        ("SELECT * FROM Bill WHERE DisplayName = 'unterminated", "not closed"),
        ('SELECT * FROM Bill WHERE DisplayName = "double"', "single quotes"),
        ("SELECT * FROM Bill WHERE DisplayName LIKE 5", "<STRING>"),
        ("SELECT * FROM Bill WHERE", "<IDENTIFIER>"),
        ("SELECT * FROM Bill WHERE Id = '1' AND", "<EOF>"),
        ("SELECT * FROM Bill ORDERBY", "<EOF>"),
        ("SELECT * FROM Bill ORDERBY Id DESC ASC", 'Encountered "ASC"'),
        ("SELECT * FROM Bill STARTPOSITION -1", 'Encountered "-1"'),
        ("SELECT * FROM Bill MAXRESULTS 10.5", 'Encountered ".5"'),
        ("SELECT * FROM Bill MAXRESULTS 5 MAXRESULTS 5", 'Encountered "MAXRESULTS"'),
        ("SELECT * FROM Bill MAXRESULTS 1001", "MAXRESULTS must be between 1 and 1000"),
        ("SELECT * FROM Bill MAXRESULTS 0", "MAXRESULTS must be between 1 and 1000"),
        ("SELECT * FROM Bill STARTPOSITION 0", "STARTPOSITION is 1-based"),
        ("SELECT * FROM Bill;", 'Encountered ";"'),
        ("DELETE FROM Bill", '"SELECT"'),
        ("SELECT * FROM Bill WHERE Id = '1' WHERE Id = '2'", 'Encountered "WHERE"'),
    ],
)
def test_rejected_statement_raises_parse_error(text: str, needle: str) -> None:
    with pytest.raises(QueryParseError) as caught:
        parse(text)
    assert needle in caught.value.message


def test_parse_error_reads_like_qbo_detail() -> None:
    with pytest.raises(QueryParseError) as caught:
        parse("SELECT * FROM Bill WHERE Id = '1' OR Id = '2'")
    error = caught.value
    assert error.message.startswith('Encountered "OR" at line 1, column 35. Was expecting one of:')
    assert '"AND"' in error.message
    assert error.detail == "QueryParserError: " + error.message
    assert str(error) == error.detail
    assert (error.code, error.title) == ("4000", "Error parsing query")


def test_parse_error_on_a_later_line_gives_its_line_and_column() -> None:
    with pytest.raises(QueryParseError) as caught:
        parse("SELECT *\nFROM Bill\nWHERE Id == '1'")
    assert "at line 3, column 11" in caught.value.message


def test_maxresults_1000_is_accepted_and_1001_refused() -> None:
    assert parse(f"SELECT * FROM Bill MAXRESULTS {MAX_MAX_RESULTS}").max_results == 1000
    with pytest.raises(QueryParseError):
        parse(f"SELECT * FROM Bill MAXRESULTS {MAX_MAX_RESULTS + 1}")


def test_parse_refuses_non_text() -> None:
    with pytest.raises(QueryParseError):
        parse(b"SELECT * FROM Bill")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Rendering


def test_render_writes_canonical_text() -> None:
    query = parse(
        r"select Id,DisplayName from Vendor where DisplayName like '%O\'Brien%' "
        "and Active in (true,false) and Balance > 10.50 order by DisplayName desc, Id "
        "maxresults 10 startposition 21"
    )
    assert render(query) == (
        r"SELECT Id, DisplayName FROM Vendor WHERE DisplayName LIKE '%O\'Brien%' "
        "AND Active IN (true, false) AND Balance > 10.50 ORDERBY DisplayName DESC, Id "
        "STARTPOSITION 21 MAXRESULTS 10"
    )


def test_render_count_and_backslashes() -> None:
    query = Query("Bill", count=True, where=(Condition("PrivateNote", "=", ("a\\'b",)),))
    assert render(query) == r"SELECT COUNT(*) FROM Bill WHERE PrivateNote = 'a\\\'b'"
    assert parse(render(query)) == query


# --------------------------------------------------------------------------------------------
# Evaluation


def test_string_equality_ignores_case_and_handles_apostrophes_and_accents() -> None:
    rows = [
        vendor(1, "O'Brien & Sons"),
        vendor(2, "Café Ñandú"),
        vendor(3, "Hillside Lumber Supply"),
    ]
    assert ids(run(r"SELECT * FROM Vendor WHERE DisplayName = 'o\'brien & sons'", rows)) == ["1"]
    assert ids(run("SELECT * FROM Vendor WHERE DisplayName = 'CAFÉ ÑANDÚ'", rows)) == ["2"]
    assert ids(run("SELECT * FROM Vendor WHERE DisplayName = 'Cafe Nandu'", rows)) == []


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("Hill%", ["3"]),
        ("%supply", ["3", "4"]),
        ("%LUMBER%", ["3"]),
        ("%", ["1", "2", "3", "4"]),
        ("Caf_ Ñandú", []),  # `_` is not a wildcard in QBO
        ("Café%", ["2"]),
        (r"O\'Brien%", ["1"]),
        ("%.%", []),  # regex characters are literal
    ],
)
def test_like_uses_percent_only_and_ignores_case(pattern: str, expected: list[str]) -> None:
    rows = [
        vendor(1, "O'Brien & Sons"),
        vendor(2, "Café Ñandú"),
        vendor(3, "Hillside Lumber Supply"),
        vendor(4, "Acme Supply"),
    ]
    assert ids(run(f"SELECT * FROM Vendor WHERE DisplayName LIKE '{pattern}'", rows)) == expected


def test_in_list_matches_any_value() -> None:
    rows = [bill(i, "10") for i in range(1, 6)]
    assert ids(run("SELECT * FROM Bill WHERE Id IN ('2', '4', '9')", rows)) == ["2", "4"]


def test_reference_field_compares_its_value() -> None:
    rows = [bill(1, "10", vendor_id="56"), bill(2, "10", vendor_id="57")]
    assert ids(run("SELECT * FROM Bill WHERE VendorRef = '57'", rows)) == ["2"]
    assert ids(run("SELECT * FROM Bill WHERE VendorRef IN ('56', '57')", rows)) == ["1", "2"]
    assert ids(run("SELECT * FROM Bill WHERE VendorRef.name = 'vendor 56'", rows)) == ["1"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("TotalAmt > 300", ["2", "3"]),
        ("TotalAmt > '300.00'", ["2", "3"]),
        ("TotalAmt = 1730", ["3"]),
        ("TotalAmt = '1730.0'", ["3"]),
        ("TotalAmt <= 300.00", ["1"]),
        ("TotalAmt < -1", []),
        ("Id > '2'", ["3", "10"]),  # Ids compare as numbers, not text
        ("Id >= 10", ["10"]),
    ],
)
def test_numbers_compare_as_decimals(condition: str, expected: list[str]) -> None:
    rows = [bill(1, "300.00"), bill(2, "300.01"), bill(3, "1730.00"), bill(10, "95", Balance=0)]
    rows[3]["TotalAmt"] = None  # a null never matches
    assert ids(run(f"SELECT * FROM Bill WHERE {condition}", rows)) == expected


def test_metadata_times_compare_as_instants_across_offsets() -> None:
    rows = [
        bill(1, "1", MetaData={"LastUpdatedTime": "2024-05-14T09:12:44-07:00"}),
        bill(2, "1", MetaData={"LastUpdatedTime": "2024-05-14T10:00:00-07:00"}),
        bill(3, "1", MetaData={"LastUpdatedTime": "2024-01-10T08:00:00-08:00"}),
    ]
    where = "SELECT * FROM Bill WHERE MetaData.LastUpdatedTime"
    # 16:12:44Z is 09:12:44-07:00: the same instant written in another offset.
    assert ids(run(f"{where} = '2024-05-14T16:12:44Z'", rows)) == ["1"]
    assert ids(run(f"{where} > '2024-05-14T16:12:44+00:00'", rows)) == ["2"]
    assert ids(run(f"{where} >= '2024-05-14T08:12:44-08:00'", rows)) == ["1", "2"]
    assert ids(run(f"{where} < '2024-01-10T16:00:01Z'", rows)) == ["3"]
    assert ids(run(f"{where} > '2024-05-01'", rows)) == ["1", "2"]
    assert ids(run(f"{where} >= '2024-05-14T09:30:00'", rows)) == ["2"]


def test_dates_compare_as_dates() -> None:
    rows = [bill(1, "1", TxnDate="2024-05-14"), bill(2, "1", TxnDate="2024-06-01")]
    assert ids(run("SELECT * FROM Bill WHERE TxnDate >= '2024-05-15'", rows)) == ["2"]
    assert ids(run("SELECT * FROM Bill WHERE TxnDate = '2024-05-14'", rows)) == ["1"]
    assert ids(run("SELECT * FROM Bill WHERE TxnDate < '2024-06-01T00:00:01'", rows)) == [
        "1",
        "2",
    ]


def test_several_conditions_must_all_hold() -> None:
    rows = [bill(1, "500", vendor_id="56"), bill(2, "50", vendor_id="56"), bill(3, "500", "57")]
    text = "SELECT * FROM Bill WHERE VendorRef = '56' AND TotalAmt > 100 AND TxnDate = '2024-05-14'"
    assert ids(run(text, rows)) == ["1"]


def test_name_lists_return_only_active_records_by_default() -> None:
    rows = [vendor(1, "A"), vendor(2, "B", Active=False), vendor(3, "C")]
    del rows[2]["Active"]  # a record that does not say is active
    assert ids(run("SELECT * FROM Vendor", rows)) == ["1", "3"]
    assert ids(run("SELECT * FROM Vendor WHERE Active IN (true, false)", rows)) == ["1", "2"]
    assert ids(run("SELECT * FROM Vendor WHERE Active = false", rows)) == ["2"]
    assert ids(run("SELECT * FROM Vendor WHERE Active = 'false'", rows)) == ["2"]
    assert execute(parse("SELECT COUNT(*) FROM Vendor"), rows).count == 2
    assert ids(execute(parse("SELECT * FROM Vendor"), rows, active_default=False)) == [
        "1",
        "2",
        "3",
    ]


def test_transactions_have_no_active_default() -> None:
    rows = [bill(1, "1", Active=False)]
    assert ids(run("SELECT * FROM Bill", rows)) == ["1"]


def test_default_order_is_numeric_id() -> None:
    rows = [bill(i, "1") for i in (10, 2, 1, 33)]
    assert ids(run("SELECT * FROM Bill", rows)) == ["1", "2", "10", "33"]


@pytest.mark.parametrize("spelling", ["ORDERBY", "ORDER BY"])
def test_order_by_keys_and_directions(spelling: str) -> None:
    rows = [
        bill(1, "50", TxnDate="2024-05-02"),
        bill(2, "75", TxnDate="2024-05-01"),
        bill(3, "50", TxnDate="2024-05-03"),
        bill(4, "75", TxnDate="2024-05-03"),
    ]
    assert ids(run(f"SELECT * FROM Bill {spelling} TxnDate", rows)) == ["2", "1", "3", "4"]
    assert ids(run(f"SELECT * FROM Bill {spelling} TotalAmt DESC, TxnDate", rows)) == [
        "2",
        "4",
        "1",
        "3",
    ]
    # Ties keep Id order in both directions, so paging is stable.
    assert ids(run(f"SELECT * FROM Bill {spelling} TotalAmt DESC", rows)) == ["2", "4", "1", "3"]


def test_order_by_datetime_uses_instants_not_text() -> None:
    rows = [
        bill(1, "1", MetaData={"LastUpdatedTime": "2024-11-03T01:30:00-07:00"}),  # 08:30Z
        bill(2, "1", MetaData={"LastUpdatedTime": "2024-11-03T01:10:00-08:00"}),  # 09:10Z
    ]
    assert ids(run("SELECT * FROM Bill ORDERBY MetaData.LastUpdatedTime DESC", rows)) == ["2", "1"]


def test_order_by_text_ignores_case() -> None:
    rows = [vendor(1, "beta"), vendor(2, "Alpha"), vendor(3, "gamma")]
    assert ids(run("SELECT * FROM Vendor ORDERBY DisplayName", rows)) == ["2", "1", "3"]


def test_paging_is_one_based_with_default_page_of_100() -> None:
    rows = [bill(i, "1") for i in range(1, 251)]
    first = run("SELECT * FROM Bill", rows)
    assert (ids(first)[0], len(first.rows), first.start_position) == ("1", 100, 1)
    page = run("SELECT * FROM Bill ORDERBY Id STARTPOSITION 101 MAXRESULTS 100", rows)
    assert ids(page)[0] == "101"
    assert len(page.rows) == 100
    last = run("SELECT * FROM Bill STARTPOSITION 201 MAXRESULTS 100", rows)
    assert len(last.rows) == 50
    assert last.to_query_response()["maxResults"] == 50


def test_startposition_beyond_the_end_gives_an_empty_response() -> None:
    rows = [bill(i, "1") for i in range(1, 4)]
    result = run("SELECT * FROM Bill STARTPOSITION 4", rows)
    assert result.rows == []
    assert result.to_query_response() == {}


def test_maxresults_1000_returns_a_full_page() -> None:
    rows = [bill(i, "1") for i in range(1, 1502)]
    assert len(run("SELECT * FROM Bill MAXRESULTS 1000", rows).rows) == 1000


def test_count_ignores_paging() -> None:
    rows = [bill(i, "10" if i % 2 else "20") for i in range(1, 42)]
    result = run("SELECT COUNT(*) FROM Bill WHERE TotalAmt = 10 STARTPOSITION 5 MAXRESULTS 1", rows)
    assert result.count == 21
    assert result.to_query_response() == {"totalCount": 21}
    assert run("SELECT COUNT(*) FROM Bill WHERE Id = '0'", rows).to_query_response() == {
        "totalCount": 0
    }


def test_projection_returns_only_named_fields_plus_domain_and_sparse() -> None:
    rows = [bill(1, "10")]
    (row,) = run("SELECT Id, TotalAmt, MetaData.CreateTime, Nope FROM Bill", rows).rows
    assert row == {
        "domain": "QBO",
        "sparse": False,
        "Id": "1",
        "TotalAmt": Decimal("10"),
        "MetaData": {"CreateTime": "2024-05-14T09:12:44-07:00"},
    }


def test_results_are_copies_and_rows_are_left_alone() -> None:
    rows = [bill(1, "10")]
    result = run("SELECT * FROM Bill", rows)
    result.rows[0]["MetaData"]["CreateTime"] = "changed"
    assert rows[0]["MetaData"]["CreateTime"] == "2024-05-14T09:12:44-07:00"


def test_field_names_fall_back_to_case_insensitive_match() -> None:
    rows = [vendor(1, "Acme"), vendor(2, "Beta")]
    assert ids(run("SELECT * FROM Vendor WHERE displayname = 'beta'", rows)) == ["2"]


def test_response_matches_the_bill_query_sample() -> None:
    sample = SAMPLES / "query.bill.response.json"
    if not sample.exists():
        pytest.skip("shared QBO samples not available")
    expected = json.loads(sample.read_text(encoding="utf-8"))["QueryResponse"]
    stored = json.loads(json.dumps(expected["Bill"]), parse_float=Decimal)
    result = run("SELECT * FROM Bill WHERE VendorRef = '56' ORDERBY Id", list(reversed(stored)))
    assert json.loads(json.dumps(result.to_query_response(), default=float)) == expected


def test_empty_result_matches_the_empty_sample() -> None:
    assert run("SELECT * FROM Bill", []).to_query_response() == {}
    assert QueryResult("Bill").to_query_response() == {}


def test_unknown_property_raises_field_error_when_fields_are_known() -> None:
    known = ("Id", "DisplayName", "Active", "MetaData")
    query = parse("SELECT * FROM Vendor WHERE MetaData.CreateTime > '2024-01-01' ORDERBY Nope")
    with pytest.raises(QueryFieldError) as caught:
        execute(query, [vendor(1, "A")], known_fields=known)
    error = caught.value
    assert (error.field, error.entity, error.code) == ("Nope", "Vendor", "4001")
    assert error.detail == "QueryValidationError: property 'Nope' is not queryable"
    assert isinstance(error, QueryError)
    check_fields(parse("SELECT Id FROM Vendor WHERE displayname = 'x'"), known)


def test_simple_filter_over_100k_rows_is_fast() -> None:
    rows = [vendor(i, f"Vendor {i}") for i in range(100_000)]
    query = parse("SELECT * FROM Vendor WHERE DisplayName = 'Vendor 99999'")
    started = time.perf_counter()
    result = execute(query, rows)
    elapsed = time.perf_counter() - started
    assert ids(result) == ["99999"]
    assert elapsed < 1.0, f"took {elapsed:.2f}s"


# --------------------------------------------------------------------------------------------
# Fuzzing (RELIABILITY.md §3 recipe 6)

KEYWORDS = {
    "select", "from", "where", "and", "in", "like", "count", "asc", "desc",
    "true", "false", "startposition", "maxresults", "orderby",
}  # fmt: skip

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: n.casefold() not in KEYWORDS and not re.fullmatch(r"order\s*by", n, re.I)
)
paths = st.lists(names, min_size=1, max_size=3).map(".".join)
numbers = st.one_of(
    st.decimals(min_value=-(10**12), max_value=10**12, places=places, allow_nan=False)
    for places in (0, 2, 6)
)
values = st.one_of(st.text(), numbers, st.booleans())
conditions = st.one_of(
    st.builds(Condition, paths, st.sampled_from(["=", "<", ">", "<=", ">="]), st.tuples(values)),
    st.builds(Condition, paths, st.just("IN"), st.lists(values, min_size=1, max_size=4).map(tuple)),
    st.builds(Condition, paths, st.just("LIKE"), st.tuples(st.text())),
)


@st.composite
def queries(draw: st.DrawFn) -> Query:
    count = draw(st.booleans())
    return Query(
        entity=draw(names),
        count=count,
        fields=() if count else tuple(draw(st.lists(paths, max_size=3))),
        where=tuple(draw(st.lists(conditions, max_size=4))),
        order=tuple(draw(st.lists(st.builds(Order, paths, st.booleans()), max_size=3))),
        start_position=draw(st.none() | st.integers(1, 10**9)),
        max_results=draw(st.none() | st.integers(1, MAX_MAX_RESULTS)),
    )


def value_types(query: Query) -> list[type]:
    return [type(v) for c in query.where for v in c.values]


@FUZZ
@given(queries())
def test_render_round_trips_any_ast(query: Query) -> None:
    again = parse(render(query))
    assert again == query
    assert value_types(again) == value_types(query)  # True must not come back as Decimal(1)


@FUZZ
@given(st.text())
def test_arbitrary_text_raises_only_parse_errors(text: str) -> None:
    # Any other exception escapes and fails the test (the REST layer would answer 500).
    with contextlib.suppress(QueryParseError):
        parse(text)


fragments = st.sampled_from(
    [
        "SELECT", "*", "COUNT(*)", "FROM", "Bill", "WHERE", "Id", "MetaData.CreateTime", "=",
        "<", ">=", "IN", "(", ")", ",", "LIKE", "'x'", r"'O\'B'", "'", "\\", "12", "-3.5",
        "true", "AND", "OR", "NOT", "ORDERBY", "ORDER BY", "DESC", "STARTPOSITION",
        "MAXRESULTS", "1001", "0", "\n", "é", ";",
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(fragments, max_size=14).map(" ".join))
def test_near_miss_statements_raise_only_parse_errors(text: str) -> None:
    try:
        query = parse(text)
    except QueryParseError:
        return
    assert parse(render(query)) == query


@FUZZ
@given(st.text())
def test_string_literals_escape_and_match_exactly(text: str) -> None:
    query = Query("Vendor", where=(Condition("DisplayName", "=", (text,)),))
    rendered = render(query)
    assert parse(rendered).where[0].value == text
    rows = [vendor(1, text), vendor(2, text + "x")]
    assert ids(execute(parse(rendered), rows)) == ["1"]


row_keys = st.sampled_from(["Id", "DisplayName", "MetaData", "VendorRef", "value", "TotalAmt"])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(max_size=8),
    st.sampled_from(
        ["2024-05-14", "2024-05-14T09:12:44-07:00", "2024-05-14T09:12:44", "2024-13-99", "42"]
    ),
)
stored = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(row_keys, inner, max_size=3),
    max_leaves=8,
)
row_paths = st.lists(row_keys, min_size=1, max_size=2).map(".".join)
row_values = st.one_of(
    st.text(max_size=8),
    numbers,
    st.booleans(),
    st.sampled_from(["2024-05-14", "2024-05-14T16:12:44Z", "2024-05-14T09:00:00", "42", "%"]),
)
row_conditions = st.one_of(
    st.builds(
        Condition,
        row_paths,
        st.sampled_from(["=", "<", ">", "<=", ">="]),
        st.tuples(row_values),
    ),
    st.builds(Condition, row_paths, st.just("IN"), st.lists(row_values, min_size=1).map(tuple)),
    st.builds(Condition, row_paths, st.just("LIKE"), st.tuples(st.text(max_size=5))),
)


@FUZZ
@given(
    rows=st.lists(st.dictionaries(row_keys, stored, max_size=5), max_size=8),
    where=st.lists(row_conditions, max_size=3),
    order=st.lists(st.builds(Order, row_paths, st.booleans()), max_size=2),
    fields=st.lists(row_paths, max_size=2),
    count=st.booleans(),
)
def test_execute_never_fails_on_odd_stored_data(
    rows: list[dict[str, Any]],
    where: list[Condition],
    order: list[Order],
    fields: list[str],
    count: bool,
) -> None:
    query = Query("Bill", fields=tuple(fields), count=count, where=tuple(where), order=tuple(order))
    response = execute(query, rows).to_query_response()
    assert isinstance(response, dict)


# -- paths through lists (AttachableRef) ----------------------------------------------------

ATTACHABLES = [
    {
        "Id": "1",
        "AttachableRef": [
            {"EntityRef": {"type": "Bill", "value": "146"}},
            {"EntityRef": {"type": "Vendor", "value": "7"}},
        ],
    },
    {"Id": "2", "AttachableRef": [{"EntityRef": {"type": "Bill", "value": "147"}}]},
    {"Id": "3", "Note": "no links"},
]


@pytest.mark.parametrize(
    ("where", "ids"),
    [
        ("AttachableRef.EntityRef.type = 'Bill' AND AttachableRef.EntityRef.value = '146'", ["1"]),
        ("AttachableRef.EntityRef.Type = 'bill'", ["1", "2"]),
        ("AttachableRef.EntityRef.value IN ('7', '147')", ["1", "2"]),
        ("AttachableRef.EntityRef.value > '146'", ["2"]),
        ("AttachableRef.EntityRef.type LIKE 'Ven%'", ["1"]),
        ("AttachableRef.EntityRef.value = '999'", []),
    ],
)
def test_a_path_through_a_list_matches_when_any_element_does(where: str, ids: list[str]) -> None:
    result = execute(parse(f"SELECT * FROM Attachable WHERE {where}"), ATTACHABLES)
    assert [row["Id"] for row in result.rows] == ids


def test_ordering_by_a_path_through_a_list_uses_its_first_element() -> None:
    query = parse("SELECT * FROM Attachable ORDERBY AttachableRef.EntityRef.value DESC")
    assert [row["Id"] for row in execute(query, ATTACHABLES).rows] == ["2", "1", "3"]
