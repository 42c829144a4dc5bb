"""The public mapping toolkit (`core.mapping.lines`): rounding, currency, dates, payees, lines."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.contracts import Exclusion
from core.contracts import Lookups
from core.contracts import QboRecord
from core.contracts import Ref
from core.mapping.lines import NON_BILLABLE
from core.mapping.lines import cents
from core.mapping.lines import currency
from core.mapping.lines import decimal
from core.mapping.lines import expense_lines
from core.mapping.lines import in_home_currency
from core.mapping.lines import payee_of
from core.mapping.lines import txn_date

CENT = Decimal("0.01")
#: A record-wide exclusion of some plugin's own (the toolkit knows no plugin's settings).
CREDITS_OFF = Exclusion("credits", False, "a credit, and credits are turned off for this project")


def account_line(line_id, amount, **detail):
    return {
        "Id": line_id,
        "Amount": amount,
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "80"}, **detail},
    }


def record(entity="Bill", **data):
    return QboRecord(entity, {"Id": "1", "TxnDate": "2024-05-14", **data})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.005", "10.01"),
        ("10.0049999", "10.00"),
        ("-10.005", "-10.01"),
        ("0.004", "0.00"),
        ("1250", "1250.00"),
    ],
)
def test_cents_rounds_half_up_away_from_zero(value, expected):
    assert str(cents(Decimal(value))) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (7, Decimal(7)),
        (Decimal("38.5"), Decimal("38.5")),
        ("12.34", Decimal("12.34")),
        (0.1, Decimal("0.1")),
        (None, None),
        (True, None),
        ("twelve", None),
        ("NaN", None),
        (Decimal("Infinity"), None),
    ],
)
def test_decimal_reads_qbo_numbers_exactly_and_refuses_the_rest(raw, expected):
    assert decimal(raw) == expected


def test_txn_date_is_the_record_date():
    assert txn_date(record(TxnDate="2024-05-14")) == dt.date(2024, 5, 14)


def test_txn_date_falls_back_to_the_local_creation_date():
    late_evening = QboRecord("Bill", {"MetaData": {"CreateTime": "2024-05-13T23:30:00-07:00"}})

    assert txn_date(late_evening) == dt.date(2024, 5, 13)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, ("USD", None, ())),
        ({"CurrencyRef": {"value": "USD"}, "ExchangeRate": 2}, ("USD", None, ())),
        (
            {"CurrencyRef": {"value": "CAD"}, "ExchangeRate": Decimal("0.73")},
            ("CAD", Decimal("0.73"), ()),
        ),
        ({"CurrencyRef": {"value": "CAD"}, "ExchangeRate": 1}, ("CAD", Decimal(1), ())),
        ({"CurrencyRef": {"value": "CAD"}}, ("CAD", None, ("no_exchange_rate",))),
        (
            {"CurrencyRef": {"value": "CAD"}, "ExchangeRate": 0},
            ("CAD", None, ("no_exchange_rate",)),
        ),
        (
            {"CurrencyRef": {"value": "CAD"}, "ExchangeRate": -1},
            ("CAD", None, ("no_exchange_rate",)),
        ),
    ],
)
def test_currency_gives_the_rate_to_home_currency_or_a_flag(data, expected):
    assert currency(record(**data), Lookups()) == expected


def test_currency_of_a_company_whose_home_is_not_usd():
    assert currency(record(CurrencyRef={"value": "CAD"}), Lookups(home_currency="CAD")) == (
        "CAD",
        None,
        (),
    )


def test_in_home_currency_without_rate_only_rounds():
    assert str(in_home_currency(Decimal("10.005"), None)) == "10.01"


@given(
    amount=st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2),
    rate=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000"), places=6),
)
def test_in_home_currency_is_the_product_rounded_half_up_once(amount, rate):
    assert in_home_currency(amount, rate) == (amount * rate).quantize(CENT, ROUND_HALF_UP)


@given(
    amounts=st.lists(
        st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=2),
        min_size=1,
        max_size=6,
    ),
    rate=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000"), places=6),
)
def test_credit_lines_are_the_exact_negatives_of_the_same_charges(amounts, rate):
    data = {
        "CurrencyRef": {"value": "EUR"},
        "ExchangeRate": rate,
        "Line": [
            account_line(str(n), a, CustomerRef={"value": "58"}) for n, a in enumerate(amounts, 1)
        ],
    }
    charges = expense_lines(record(**data), Lookups(), actual_type="bill")
    credits = expense_lines(record(**data), Lookups(), actual_type="vendor_credit", sign=-1)

    expected = [(a * rate).quantize(CENT, ROUND_HALF_UP) for a in amounts]
    assert [line.amount for line in charges] == expected
    assert [line.amount for line in credits] == [-a for a in expected]
    assert all(line.amount <= 0 for line in credits)
    assert sum(line.amount for line in charges) + sum(line.amount for line in credits) == 0
    assert [line.original_amount for line in credits] == [-a for a in amounts]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"VendorRef": {"value": "56", "name": "Hillside Lumber Supply"}},
            "Hillside Lumber Supply",
        ),
        ({"EntityRef": {"value": "61", "name": "Home Depot", "type": "Vendor"}}, "Home Depot"),
        ({"EmployeeRef": {"value": "66", "name": "Dana Ortiz"}}, "Dana Ortiz"),
        ({"VendorRef": {"value": "70"}}, "70"),
        ({"VendorRef": {"value": ""}}, None),
        ({}, None),
    ],
)
def test_payee_is_the_vendor_payee_or_worker(data, expected):
    assert payee_of(record(**data)) == expected


def test_expense_lines_skip_other_detail_types_and_details_that_are_not_objects():
    data = {
        "Line": [
            account_line("1", Decimal("10")),
            {"Id": "2", "Amount": Decimal("10"), "DetailType": "SubTotalLineDetail"},
            {"Id": "3", "Amount": Decimal("5"), "DetailType": "DiscountLineDetail"},
            {"Id": "4", "Amount": Decimal("5"), "DetailType": "AccountBasedExpenseLineDetail"},
            "not a line",
        ]
    }

    lines = expense_lines(record(**data), Lookups(), actual_type="bill")

    assert [line.line_id for line in lines] == ["1"]


def test_expense_line_without_id_takes_its_line_number():
    line = account_line(None, Decimal("10"))
    line["LineNum"] = 3

    (candidate,) = expense_lines(record(Line=[line]), Lookups(), actual_type="bill")

    assert candidate.line_id == "3"


def test_expense_line_without_amount_counts_zero():
    line = account_line("1", None)

    (candidate,) = expense_lines(record(Line=[line]), Lookups(), actual_type="expense")

    assert candidate.amount == 0


def test_expense_lines_keep_record_exclusions_first_then_not_billable():
    lines = [account_line("1", Decimal("1"), BillableStatus="NotBillable"), account_line("2", 1)]

    first, second = expense_lines(
        record(Line=lines),
        Lookups(),
        actual_type="vendor_credit",
        sign=-1,
        exclusions=(CREDITS_OFF,),
    )

    assert first.exclusions == (CREDITS_OFF, NON_BILLABLE)
    assert second.exclusions == (CREDITS_OFF,)


def test_expense_lines_keep_the_record_department_as_location():
    data = {"DepartmentRef": {"value": "2", "name": "North"}, "Line": [account_line("1", 1)]}

    (line,) = expense_lines(record(**data), Lookups(), actual_type="bill")

    assert line.location == Ref("2", "North")


@pytest.mark.parametrize(
    ("settings", "applies"),
    [({}, False), ({"exclude_non_billable": False}, False), ({"exclude_non_billable": True}, True)],
)
def test_exclusion_on_a_setting_being_on_applies_only_while_it_is_on(settings, applies):
    assert NON_BILLABLE.applies(settings) is applies


def test_first_applying_exclusion_gives_the_reason():
    lines = [account_line("1", 1, BillableStatus="NotBillable")]
    (line,) = expense_lines(
        record(Line=lines),
        Lookups(),
        actual_type="vendor_credit",
        exclusions=(Exclusion("other", False, "other is off"), CREDITS_OFF),
    )

    assert line.excluded_by({"exclude_non_billable": True}) == "other is off"
    assert line.excluded_by({"other": True}) == CREDITS_OFF.reason
    on = {"other": True, "credits": True}
    assert line.excluded_by({**on, "exclude_non_billable": True}) == NON_BILLABLE.reason
    assert line.excluded_by(on) is None
