"""Query quoting and paging against the sandbox's real query language."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from core.qbo import queries
from core.qbo.client import QboClient
from costbridge_testing.sandbox import Control

NAMES = ["O'Brien & Sons", "Café Ñandú", "Back\\slash 'n' Quote", "100% Concrete"]


def test_quote_backslash_escapes_apostrophes() -> None:
    assert queries.quote("O'Brien & Sons") == "'O\\'Brien & Sons'"
    assert queries.quote("a\\b") == "'a\\\\b'"
    assert queries.quote(Decimal("10.50")) == "'10.50'"
    assert queries.quote(dt.date(2025, 6, 30)) == "'2025-06-30'"
    assert queries.quote(True) == "'true'"


def test_floats_and_bad_field_names_are_refused() -> None:
    with pytest.raises(TypeError):
        queries.quote(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="field"):
        queries.eq("Name' OR 1=1 --", "x")


def test_select_pages_in_thousands_by_default() -> None:
    text = queries.select("Bill", queries.eq("VendorRef", "56"))
    assert text == (
        "SELECT * FROM Bill WHERE VendorRef = '56' ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000"
    )


def test_awkward_names_are_found_exactly(qbo_client: QboClient) -> None:
    ids = {
        name: qbo_client.create("Vendor", {"DisplayName": name}, request_id=uuid.uuid4().hex)["Id"]
        for name in NAMES
    }
    for name, vendor_id in ids.items():
        rows = list(qbo_client.query_all("Vendor", queries.eq("DisplayName", name)))
        assert [r["Id"] for r in rows] == [vendor_id], name
    both = list(qbo_client.query_all("Vendor", queries.in_("DisplayName", NAMES[:2])))
    assert sorted(r["Id"] for r in both) == sorted([ids[NAMES[0]], ids[NAMES[1]]])


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30))
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_text_value_is_one_literal_to_qbo(qbo_client: QboClient, value: str) -> None:
    # Whatever the text, the statement parses and matches nothing rather than failing.
    statement = queries.select("Vendor", queries.eq("DisplayName", "\u2400" + value), count=True)
    assert qbo_client.query(statement).get("totalCount", 0) == 0


@pytest.mark.slow
def test_query_all_pages_past_a_thousand_rows(
    qbo_client: QboClient, sandbox_control: Control
) -> None:
    sandbox_control.throttle(enabled=False)
    items = [
        {
            "bId": f"c{i}",
            "operation": "create",
            "Customer": {"DisplayName": f"Paging Customer {i:05d}"},
        }
        for i in range(1005)
    ]
    qbo_client.throttle = None
    results = qbo_client.batch(items, request_id=uuid.uuid4().hex)
    assert all(r.ok for r in results.values())
    names = [
        c["DisplayName"]
        for c in qbo_client.query_all("Customer", queries.like("DisplayName", "Paging%"))
    ]
    assert len(names) == 1005
    assert len(set(names)) == 1005
    assert qbo_client.count("Customer", queries.like("DisplayName", "Paging%")) == 1005


# -- issue 20: only fields QBO lets a query use --------------------------------------------


@pytest.mark.parametrize(
    ("entity", "field"),
    [
        ("Bill", "PrivateNote"),
        ("Invoice", "PrivateNote"),
        ("TimeActivity", "Description"),
        ("Attachable", "Note"),
        ("Bill", "Line.Amount"),
        ("Invoice", "CustomField"),
        ("Purchase", "EntityRef"),
        ("Unknown", "TxnDate"),
    ],
)
def test_a_where_on_a_field_qbo_cannot_filter_fails_at_build_time(entity: str, field: str) -> None:
    with pytest.raises(ValueError, match="queryable"):
        queries.select(entity, queries.like(field, "%cb-%"))


def test_an_entity_the_core_does_not_list_pages_by_what_every_entity_allows() -> None:
    # A plugin may own an entity the core has never heard of (issue 19): its pull pages by Id
    # and reads changes by LastUpdatedTime, as Intuit lets every entity's query do.
    text = queries.select(
        "RetainageNote",
        queries.ge("MetaData.LastUpdatedTime", "2026-03-02T00:00:00Z"),
        order_by="Id",
    )
    assert text.startswith("SELECT * FROM RetainageNote WHERE MetaData.LastUpdatedTime >= ")
    with pytest.raises(ValueError, match="queryable"):
        queries.select("RetainageNote", order_by="TxnDate")


def test_an_orderby_on_a_field_qbo_cannot_sort_fails_at_build_time() -> None:
    with pytest.raises(ValueError, match="queryable"):
        queries.select("Bill", order_by="VendorRef")
    with pytest.raises(ValueError, match="queryable"):
        queries.select("Bill", order_by="PrivateNote")


def test_the_look_up_fields_build() -> None:
    text = queries.select(
        "Bill",
        queries.eq("VendorRef", "56"),
        queries.eq("TxnDate", dt.date(2026, 3, 2)),
        queries.eq("DocNumber", "CR-1"),
    )
    assert "WHERE VendorRef = '56' AND TxnDate = '2026-03-02' AND DocNumber = 'CR-1'" in text
    queries.select(
        "TimeActivity", queries.eq("TxnDate", "2026-03-02"), queries.eq("EmployeeRef", "5")
    )
    queries.select(
        "Attachable",
        queries.eq("AttachableRef.EntityRef.Type", "Bill"),
        queries.eq("AttachableRef.EntityRef.value", "146"),
    )
    queries.select("Invoice", queries.eq("CustomerRef.value", "17"), order_by="TxnDate")
