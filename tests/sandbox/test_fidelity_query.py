"""Issue 10, bullet 3: per-entity filterable/sortable/selectable fields, and bounded queries."""
# ruff: noqa: S608 - QBO query text built by the test, not SQL

from __future__ import annotations

import time

import pytest

from sandbox.query_rules import MAX_CONDITIONS
from sandbox.query_rules import MAX_IN_VALUES
from sandbox.query_rules import MAX_QUERY_CHARS
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body


def _fault(api: Api, text: str) -> dict[str, str]:
    resp = api.post("query", data=text.encode(), headers={"Content-Type": "application/text"})
    assert resp.status_code == 400, resp.text
    error: dict[str, str] = resp.json()["Fault"]["Error"][0]
    assert error["code"].startswith("400")
    return error


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM Bill WHERE Line.Description = 'x'",
        "SELECT * FROM Bill WHERE SyncToken = '0'",
        "SELECT * FROM Vendor WHERE TaxIdentifier = '1234'",
        "SELECT * FROM Bill WHERE Colour = 'red'",
    ],
)
def test_filtering_on_a_field_qbo_does_not_filter_is_a_4000_series_fault(
    api: Api, text: str
) -> None:
    assert _fault(api, text)["code"] in ("4000", "4001")


def test_sorting_on_a_field_qbo_does_not_sort_is_a_fault(api: Api) -> None:
    assert "sortable" in _fault(api, "SELECT * FROM Bill ORDERBY Line")["Detail"]


def test_selecting_a_field_the_entity_does_not_have_is_a_fault(api: Api) -> None:
    assert _fault(api, "SELECT Id, Colour FROM Vendor")["code"] == "4001"


def test_documented_filters_still_answer(api: Api, book: dict[str, str]) -> None:
    api.create("Bill", bill_body(book, DocNumber="F-1"))
    rows = api.query(
        f"SELECT Id, DocNumber FROM Bill WHERE VendorRef = '{book['vendor']}' "
        "AND MetaData.LastUpdatedTime > '2020-01-01' AND TxnDate >= '2020-01-01' "
        "ORDERBY MetaData.LastUpdatedTime, Id"
    )["Bill"]
    assert [r["DocNumber"] for r in rows] == ["F-1"]


def test_too_long_a_query_is_refused_before_parsing(api: Api) -> None:
    text = "SELECT * FROM Bill WHERE DocNumber = '" + "x" * MAX_QUERY_CHARS + "'"
    assert _fault(api, text)["code"] == "4000"


def test_too_many_conditions_or_in_values_are_refused(api: Api) -> None:
    conds = " AND ".join(["DocNumber = 'a'"] * (MAX_CONDITIONS + 1))
    assert _fault(api, f"SELECT * FROM Bill WHERE {conds}")["code"] == "4000"
    values = ", ".join(f"'{n}'" for n in range(MAX_IN_VALUES + 1))
    assert _fault(api, f"SELECT * FROM Bill WHERE Id IN ({values})")["code"] == "4000"


def test_the_largest_allowed_query_answers_quickly(api: Api, book: dict[str, str]) -> None:
    # DocNumber: the longest free text QBO lets a query filter on (21 characters).
    for n in range(20):
        api.create("Bill", bill_body(book, DocNumber=f"{n:02d}" + "a" * 19))
    like = " AND ".join(["DocNumber LIKE '%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b%'"] * 50)
    values = ", ".join(f"'{n}'" for n in range(MAX_IN_VALUES))
    started = time.monotonic()
    api.query(f"SELECT * FROM Bill WHERE {like} AND Id IN ({values})")
    assert time.monotonic() - started < 2
