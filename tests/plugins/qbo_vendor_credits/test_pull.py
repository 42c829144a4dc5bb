"""A QBO VendorCredit becomes negative candidates, left out unless the project turns them on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import plugins.qbo_vendor_credits
from core.contracts import Lookups
from core.contracts import Ref
from core.mapping.lines import NON_BILLABLE
from plugins.qbo_vendor_credits import pull
from plugins.qbo_vendor_credits.pull import VENDOR_CREDITS_OFF
from tests.plugins import sample_data
from tests.plugins import sample_record

CREDIT = "vendorcredit.response.json"


def test_vendor_credit_sample_is_one_negative_line_for_the_project_customer():
    (line,) = pull.lines(sample_record(CREDIT), Lookups())

    assert (line.line_id, line.customer_id, line.actual_type) == ("1", "58", "vendor_credit")
    assert str(line.amount) == "-90.00"
    assert line.payee == "Hillside Lumber Supply"
    assert line.doc_number == "CM-2231"
    assert line.txn_date == dt.date(2024, 5, 16)
    assert line.billable_status == "NotBillable"
    assert line.description == "Damaged 2x4 studs returned"
    assert line.account == Ref("80", "Job Materials:Lumber")
    assert (line.currency, line.original_amount, line.flags) == ("USD", None, ())


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({}, VENDOR_CREDITS_OFF.reason),
        ({"vendor_credits": False}, VENDOR_CREDITS_OFF.reason),
        ({"vendor_credits": False, "exclude_non_billable": True}, VENDOR_CREDITS_OFF.reason),
        ({"vendor_credits": True}, None),
        ({"vendor_credits": True, "exclude_non_billable": False}, None),
        ({"vendor_credits": True, "exclude_non_billable": True}, NON_BILLABLE.reason),
    ],
)
def test_vendor_credit_counts_only_when_the_project_turns_vendor_credits_on(settings, reason):
    (line,) = pull.lines(sample_record(CREDIT), Lookups())

    assert line.excluded_by(settings) == reason


def test_billable_vendor_credit_counts_whenever_vendor_credits_are_on():
    _, data = sample_data(CREDIT)
    data["Line"][0]["AccountBasedExpenseLineDetail"]["BillableStatus"] = "Billable"

    (line,) = pull.lines(sample_record(CREDIT, Line=data["Line"]), Lookups())

    assert line.excluded_by({"vendor_credits": True, "exclude_non_billable": True}) is None
    assert line.excluded_by({"exclude_non_billable": True}) == VENDOR_CREDITS_OFF.reason


def test_vendor_credit_reason_speaks_to_the_admin():
    assert "vendor credits are turned off" in VENDOR_CREDITS_OFF.reason


def test_item_based_vendor_credit_line_is_coded_negative_or_uncoded():
    item_line = {
        "Id": "2",
        "Amount": Decimal("40"),
        "DetailType": "ItemBasedExpenseLineDetail",
        "ItemBasedExpenseLineDetail": {
            "CustomerRef": {"value": "58"},
            "ItemRef": {"value": "21", "name": "Equipment Rental"},
            "BillableStatus": "Billable",
        },
    }
    subtotal = {"Amount": Decimal("130"), "DetailType": "SubTotalLineDetail"}
    _, data = sample_data(CREDIT)
    record = sample_record(CREDIT, Line=[*data["Line"], item_line, subtotal])

    coded = pull.lines(record, Lookups(item_cost_codes={"21": 7}))
    uncoded = pull.lines(record, Lookups())

    assert [(line.line_id, line.amount, line.cost_code_id) for line in coded] == [
        ("1", Decimal("-90.00"), None),
        ("2", Decimal("-40.00"), 7),
    ]
    assert uncoded[1].cost_code_id is None
    assert uncoded[1].item == Ref("21", "Equipment Rental")


def test_foreign_vendor_credit_is_converted_once_and_keeps_its_original_amount():
    _, data = sample_data(CREDIT)
    data["Line"][0]["Amount"] = Decimal("20.01")  # × 0.5 = 10.005: a half cent
    record = sample_record(
        CREDIT, CurrencyRef={"value": "GBP"}, ExchangeRate=Decimal("0.5"), Line=data["Line"]
    )

    (line,) = pull.lines(record, Lookups())

    assert str(line.amount) == "-10.01"
    assert line.original_amount == Decimal("-20.01")
    assert (line.currency, line.exchange_rate, line.flags) == ("GBP", Decimal("0.5"), ())


def test_foreign_vendor_credit_without_exchange_rate_is_flagged():
    (line,) = pull.lines(sample_record(CREDIT, CurrencyRef={"value": "GBP"}), Lookups())

    assert line.flags == ("no_exchange_rate",)


def test_actual_lines_hook_maps_a_vendor_credit_with_the_pull_module():
    record = sample_record(CREDIT)

    assert plugins.qbo_vendor_credits.actual_lines(record, Lookups()) == pull.lines(
        record, Lookups()
    )


@pytest.mark.parametrize(
    ("settings", "applies"),
    [({}, True), ({"vendor_credits": False}, True), ({"vendor_credits": True}, False)],
)
def test_exclusion_on_a_setting_being_off_applies_while_it_is_unset_or_off(settings, applies):
    assert VENDOR_CREDITS_OFF.applies(settings) is applies
