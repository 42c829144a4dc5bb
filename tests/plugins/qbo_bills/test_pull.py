"""A QBO Bill becomes one positive `bill` candidate per expense line (DESIGN.md, pull table)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import plugins.qbo_bills
from core.contracts import Lookups
from core.contracts import Ref
from core.mapping.lines import NON_BILLABLE
from plugins.qbo_bills import pull
from tests.plugins import sample_data
from tests.plugins import sample_record

BILL = "bill.read.response.json"
CODED = Lookups(item_cost_codes={"21": 7})


def test_bill_gives_one_bill_line_per_expense_line_for_its_customer():
    lines = pull.lines(sample_record(BILL), Lookups())

    assert [(line.line_id, line.customer_id, line.actual_type, line.amount) for line in lines] == [
        ("1", "58", "bill", Decimal("1250.00")),
        ("2", "58", "bill", Decimal("480.00")),
    ]
    assert {line.customer_name for line in lines} == {"Maple Street Remodel:Kitchen Addition"}


def test_bill_amounts_are_in_exact_cents():
    lines = pull.lines(sample_record(BILL), Lookups())

    assert [str(line.amount) for line in lines] == ["1250.00", "480.00"]


def test_bill_lines_keep_vendor_doc_number_and_date():
    lines = pull.lines(sample_record(BILL), Lookups())

    for line in lines:
        assert line.payee == "Hillside Lumber Supply"
        assert line.doc_number == "INV-88412"
        assert line.txn_date == dt.date(2024, 5, 14)
        assert (line.currency, line.exchange_rate, line.original_amount) == ("USD", None, None)
        assert line.flags == ()


def test_bill_lines_keep_description_account_and_class():
    first, second = pull.lines(sample_record(BILL), Lookups())

    assert first.description == "Framing lumber - lot 14"
    assert first.account == Ref("80", "Job Materials:Lumber")
    assert first.klass == Ref("5000000000000012345", "Residential")
    assert second.description == "Concrete pump rental"
    assert (second.account, second.klass) == (None, None)


def test_bill_lines_keep_billable_status_as_qbo_says():
    lines = pull.lines(sample_record(BILL), Lookups())

    assert [line.billable_status for line in lines] == ["Billable", "NotBillable"]


def test_item_based_bill_line_gets_the_cost_code_connected_to_its_item():
    account_line, item_line = pull.lines(sample_record(BILL), CODED)

    assert item_line.item == Ref("21", "Equipment Rental")
    assert item_line.cost_code_id == 7
    assert (account_line.item, account_line.cost_code_id) == (None, None)


def test_item_based_bill_line_with_no_connected_item_lands_in_uncoded():
    _, item_line = pull.lines(sample_record(BILL), Lookups(item_cost_codes={"19": 3}))

    assert item_line.item == Ref("21", "Equipment Rental")
    assert item_line.cost_code_id is None
    assert item_line.excluded_by({}) is None


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, [None, None]),
        ({"exclude_non_billable": False}, [None, None]),
        ({"exclude_non_billable": True}, [None, NON_BILLABLE.reason]),
    ],
)
def test_non_billable_bill_line_is_left_out_only_when_project_excludes_non_billable(
    settings, expected
):
    lines = pull.lines(sample_record(BILL), Lookups())

    assert [line.excluded_by(settings) for line in lines] == expected


def test_non_billable_reason_speaks_to_the_admin():
    assert "not billable" in NON_BILLABLE.reason
    assert "excludes non-billable" in NON_BILLABLE.reason


def test_subtotal_and_other_detail_types_are_ignored():
    _, data = sample_data(BILL)
    extra = [
        {"Amount": Decimal("1730.0"), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
        {"Id": "3", "Description": "Note only", "DetailType": "DescriptionOnly"},
        {"Id": "4", "Amount": Decimal("5"), "DetailType": "ItemBasedExpenseLineDetail"},
    ]
    record = sample_record(BILL, Line=[*data["Line"], *extra])

    assert [line.line_id for line in pull.lines(record, Lookups())] == ["1", "2"]


def test_bill_line_with_no_customer_is_kept_for_no_project():
    _, data = sample_data(BILL)
    del data["Line"][0]["AccountBasedExpenseLineDetail"]["CustomerRef"]
    record = sample_record(BILL, Line=data["Line"])

    first, _ = pull.lines(record, Lookups())

    assert (first.customer_id, first.customer_name) == (None, None)
    assert first.amount == Decimal("1250.00")


def test_foreign_currency_bill_is_converted_and_rounded_half_up_once():
    _, data = sample_data(BILL)
    # 14.35 × 0.7 = 10.045 exactly (as floats: 10.044999...), so half-up gives 10.05.
    data["Line"][0]["Amount"] = Decimal("14.35")
    data["Line"][1]["Amount"] = Decimal("100")
    record = sample_record(
        BILL,
        CurrencyRef={"value": "CAD", "name": "Canadian Dollar"},
        ExchangeRate=Decimal("0.7"),
        Line=data["Line"],
    )

    first, second = pull.lines(record, Lookups())

    assert (first.amount, first.original_amount) == (Decimal("10.05"), Decimal("14.35"))
    assert (second.amount, second.original_amount) == (Decimal("70.00"), Decimal("100"))
    assert (first.currency, first.exchange_rate, first.flags) == ("CAD", Decimal("0.7"), ())


def test_foreign_currency_bill_without_exchange_rate_is_flagged():
    record = sample_record(BILL, CurrencyRef={"value": "CAD"}, ExchangeRate=None)

    lines = pull.lines(record, Lookups())

    assert {line.flags for line in lines} == {("no_exchange_rate",)}
    assert {line.exchange_rate for line in lines} == {None}
    assert [line.amount for line in lines] == [Decimal("1250.00"), Decimal("480.00")]


def test_bill_in_the_company_home_currency_needs_no_rate():
    record = sample_record(BILL, CurrencyRef={"value": "CAD"}, ExchangeRate=None)

    lines = pull.lines(record, Lookups(home_currency="CAD"))

    assert {(line.currency, line.exchange_rate, line.flags) for line in lines} == {
        ("CAD", None, ())
    }


def test_actual_lines_hook_maps_a_bill_with_the_pull_module():
    record = sample_record(BILL)

    assert plugins.qbo_bills.actual_lines(record, CODED) == pull.lines(record, CODED)
