"""A QBO Purchase becomes candidates typed by how it was paid (DESIGN.md, pull table)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import plugins.qbo_expenses
from core.contracts import Lookups
from core.contracts import Ref
from core.mapping.lines import NON_BILLABLE
from plugins.qbo_expenses import pull
from tests.plugins import sample_data
from tests.plugins import sample_record

CHECK = "purchase.check.response.json"
CARD = "purchase.creditcard.response.json"
CARD_CREDIT = "purchase.cc-credit.response.json"


def test_check_sample_is_a_positive_check_with_no_customer():
    (line,) = pull.lines(sample_record(CHECK), Lookups())

    assert (line.line_id, line.customer_id, line.actual_type) == ("1", None, "check")
    assert line.amount == Decimal("300.00")
    assert line.payee == "Hillside Lumber Supply"
    assert line.doc_number == "1043"
    assert line.txn_date == dt.date(2024, 5, 14)
    assert line.billable_status == "NotBillable"
    assert line.account == Ref("80", "Job Materials:Lumber")
    assert (line.item, line.cost_code_id) == (None, None)


def test_credit_card_sample_is_a_positive_card_charge_for_the_project_customer():
    (line,) = pull.lines(sample_record(CARD), Lookups())

    assert (line.line_id, line.customer_id, line.actual_type) == ("1", "58", "credit_card")
    assert str(line.amount) == "212.37"
    assert line.payee == "Home Depot"
    assert line.doc_number is None
    assert line.txn_date == dt.date(2024, 5, 10)
    assert line.billable_status == "Billable"
    assert line.description == "Tile adhesive and grout"
    assert line.account == Ref("81", "Job Materials:Tile")
    assert line.flags == ()


def test_credit_card_credit_sample_is_negative():
    (line,) = pull.lines(sample_record(CARD_CREDIT), Lookups())

    assert (line.line_id, line.customer_id, line.actual_type) == ("1", "58", "credit_card_credit")
    assert str(line.amount) == "-48.10"
    assert line.payee == "Home Depot"
    assert line.billable_status == "NotBillable"


@pytest.mark.parametrize(
    ("changes", "actual_type", "amount"),
    [
        ({"PaymentType": "Cash"}, "expense", Decimal("212.37")),
        ({"PaymentType": "Check"}, "check", Decimal("212.37")),
        ({"PaymentType": "CreditCard"}, "credit_card", Decimal("212.37")),
        ({"PaymentType": "CreditCard", "Credit": True}, "credit_card_credit", Decimal("-212.37")),
        ({"PaymentType": "CreditCard", "Credit": None}, "credit_card", Decimal("212.37")),
        ({"PaymentType": "Cash", "TxnSource": "BankFeed"}, "bank_transaction", Decimal("212.37")),
        ({"PaymentType": "Check", "TxnSource": "BankFeed"}, "bank_transaction", Decimal("212.37")),
    ],
)
def test_purchase_type_and_sign_follow_how_it_was_paid(changes, actual_type, amount):
    (line,) = pull.lines(sample_record(CARD, **changes), Lookups())

    assert (line.actual_type, line.amount) == (actual_type, amount)


@pytest.mark.parametrize(
    ("name", "settings", "reason"),
    [
        (CARD, {}, None),
        (CARD, {"exclude_non_billable": True}, None),
        (CHECK, {}, None),
        (CHECK, {"exclude_non_billable": False}, None),
        (CHECK, {"exclude_non_billable": True}, NON_BILLABLE.reason),
        (CARD_CREDIT, {"exclude_non_billable": True}, NON_BILLABLE.reason),
    ],
)
def test_non_billable_purchase_line_is_left_out_only_when_project_excludes_it(
    name, settings, reason
):
    (line,) = pull.lines(sample_record(name), Lookups())

    assert line.excluded_by(settings) == reason


def test_item_based_purchase_line_gets_the_connected_cost_code_or_lands_in_uncoded():
    _, data = sample_data(CARD)
    item_line = {
        "Id": "2",
        "Amount": Decimal("35.50"),
        "DetailType": "ItemBasedExpenseLineDetail",
        "ItemBasedExpenseLineDetail": {
            "CustomerRef": {"value": "58"},
            "ItemRef": {"value": "21", "name": "Equipment Rental"},
            "BillableStatus": "Billable",
        },
    }
    record = sample_record(CARD, Line=[*data["Line"], item_line])

    coded = pull.lines(record, Lookups(item_cost_codes={"21": 7}))
    uncoded = pull.lines(record, Lookups())

    assert [(line.line_id, line.cost_code_id) for line in coded] == [("1", None), ("2", 7)]
    assert [(line.line_id, line.cost_code_id) for line in uncoded] == [("1", None), ("2", None)]
    assert coded[1].item == Ref("21", "Equipment Rental")


def test_subtotal_lines_of_a_purchase_are_ignored():
    _, data = sample_data(CHECK)
    subtotal = {"Amount": Decimal("300.0"), "DetailType": "SubTotalLineDetail"}
    record = sample_record(CHECK, Line=[*data["Line"], subtotal])

    assert [line.line_id for line in pull.lines(record, Lookups())] == ["1"]


def test_foreign_card_credit_is_converted_rounded_half_up_once_and_negative():
    _, data = sample_data(CARD_CREDIT)
    data["Line"][0]["Amount"] = Decimal("20.01")  # × 0.5 = 10.005: a half cent
    record = sample_record(
        CARD_CREDIT, CurrencyRef={"value": "EUR"}, ExchangeRate=Decimal("0.5"), Line=data["Line"]
    )

    (line,) = pull.lines(record, Lookups())

    assert str(line.amount) == "-10.01"
    assert line.original_amount == Decimal("-20.01")
    assert (line.currency, line.exchange_rate) == ("EUR", Decimal("0.5"))


def test_foreign_purchase_without_exchange_rate_is_flagged():
    (line,) = pull.lines(sample_record(CARD, CurrencyRef={"value": "EUR"}), Lookups())

    assert line.flags == ("no_exchange_rate",)
    assert (line.currency, line.exchange_rate) == ("EUR", None)


def test_foreign_purchase_with_zero_exchange_rate_is_flagged():
    record = sample_record(CARD, CurrencyRef={"value": "EUR"}, ExchangeRate=0)

    (line,) = pull.lines(record, Lookups())

    assert line.flags == ("no_exchange_rate",)


def test_purchase_without_payee_has_none():
    (line,) = pull.lines(sample_record(CHECK, EntityRef=None), Lookups())

    assert line.payee is None


def test_actual_lines_hook_maps_a_purchase_with_the_pull_module():
    record = sample_record(CARD_CREDIT)

    assert plugins.qbo_expenses.actual_lines(record, Lookups()) == pull.lines(record, Lookups())
