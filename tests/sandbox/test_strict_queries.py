"""Issue 20, item 1: the sandbox filters and sorts only on fields Intuit confirms queryable.

A WHERE on free text (PrivateNote, Memo, Description, Note), a line-level field or a custom
field is Intuit's 400 QueryValidationError (Fault 4001, "property ... is not queryable"), as is
any field nothing confirms filterable; the look-ups costbridge needs still answer.
"""
# ruff: noqa: S608 - QBO query text built by the test, not SQL

from __future__ import annotations

import pytest

from sandbox.query_rules import FILTERABLE
from sandbox.query_rules import SORTABLE
from sandbox.query_rules import defined_fields
from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body

#: Free text, line-level and custom fields: never filterable on any entity (issue 20).
NEVER = {"privatenote", "memo", "description", "note", "customfield", "line"}


def _refused(api: Api, text: str) -> dict[str, str]:
    resp = api.post("query", data=text.encode(), headers={"Content-Type": "application/text"})
    assert resp.status_code == 400, resp.text
    fault = resp.json()["Fault"]
    assert fault["type"] == "ValidationFault"
    error: dict[str, str] = fault["Error"][0]
    assert error["code"] == "4001", error
    assert error["Message"] == "Invalid query"
    return error


def test_where_on_private_note_is_the_4001_fault_intuit_gives(api: Api) -> None:
    error = _refused(api, "SELECT * FROM Bill WHERE PrivateNote LIKE '%cb-0123%'")
    assert error["Detail"] == "QueryValidationError: property 'PrivateNote' is not queryable"


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM Invoice WHERE PrivateNote = 'x'",
        "SELECT * FROM VendorCredit WHERE PrivateNote LIKE '%x%'",
        "SELECT * FROM Purchase WHERE PrivateNote LIKE '%x%'",
        "SELECT * FROM Payment WHERE PrivateNote = 'x'",
        "SELECT * FROM TimeActivity WHERE Description LIKE '%x%'",
        "SELECT * FROM Attachable WHERE Note LIKE '%x%'",
        "SELECT * FROM Item WHERE Description = 'x'",
        "SELECT * FROM Invoice WHERE CustomerMemo = 'x'",
        "SELECT * FROM Bill WHERE Line.Amount > '0'",
        "SELECT * FROM Bill WHERE Line.ItemBasedExpenseLineDetail.CustomerRef = '1'",
        "SELECT * FROM Invoice WHERE CustomField.StringValue = 'x'",
        # Defined, but nothing confirms them filterable: refused rather than guessed.
        "SELECT * FROM Purchase WHERE EntityRef = '1'",
        "SELECT * FROM Purchase WHERE PaymentType = 'Cash'",
        "SELECT * FROM Vendor WHERE Balance > '0'",
        "SELECT * FROM Customer WHERE IsProject = true",
        "SELECT * FROM Bill WHERE APAccountRef = '1'",
    ],
)
def test_fields_intuit_does_not_let_a_query_filter_on_are_refused(api: Api, text: str) -> None:
    error = _refused(api, text)
    assert error["Detail"].startswith("QueryValidationError: property '")
    assert error["Detail"].endswith("' is not queryable")


def test_sorting_on_a_reference_is_refused(api: Api) -> None:
    error = _refused(api, "SELECT * FROM Bill ORDERBY VendorRef")
    assert error["Detail"] == "QueryValidationError: property 'VendorRef' is not sortable"


def test_the_look_ups_costbridge_makes_answer(api: Api, book: dict[str, str]) -> None:
    made = api.create(
        "Bill", bill_body(book, DocNumber="LK-1", TxnDate="2026-03-02", PrivateNote="m")
    )
    rows = api.query(
        f"SELECT * FROM Bill WHERE VendorRef = '{book['vendor']}' AND TxnDate = '2026-03-02' "
        "AND DocNumber = 'LK-1' ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000"
    )["Bill"]
    assert [r["Id"] for r in rows] == [made["Id"]]
    assert (
        api.query(
            f"SELECT * FROM Attachable WHERE AttachableRef.EntityRef.Type = 'Bill' "
            f"AND AttachableRef.EntityRef.value IN ('{made['Id']}') ORDERBY Id"
        )
        == {}
    )
    assert (
        api.query(
            "SELECT * FROM TimeActivity WHERE TxnDate = '2026-03-02' AND EmployeeRef = '1' "
            "ORDERBY Id"
        )
        == {}
    )


def test_the_table_names_only_defined_properties_and_never_free_text() -> None:
    for entity, fields in FILTERABLE.items():
        defined = defined_fields(entity)
        for path in fields:
            assert path.split(".", 1)[0] in defined, (entity, path)
            assert not set(path.split(".")) & NEVER, (entity, path)
        assert SORTABLE[entity] <= fields
