"""The pure helpers every pull mapper shares: rounding, currency, dates, payees, time, lines."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.contracts import Exclusion
from core.contracts import Lookups
from core.contracts import QboRecord
from core.contracts import Ref
from core.sync.lines import NON_BILLABLE
from core.sync.lines import VENDOR_CREDITS_OFF
from core.sync.lines import cents
from core.sync.lines import currency
from core.sync.lines import decimal
from core.sync.lines import expense_lines
from core.sync.lines import hours_worked
from core.sync.lines import in_home_currency
from core.sync.lines import payee_of
from core.sync.lines import time_line
from core.sync.lines import txn_date

CENT = Decimal("0.01")


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


@given(
    hours=st.integers(min_value=0, max_value=24),
    minutes=st.integers(min_value=0, max_value=59),
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=3),
)
def test_time_amount_is_exact_hours_times_rate_rounded_half_up_once(hours, minutes, rate):
    exact = (Fraction(hours) + Fraction(minutes, 60)) * Fraction(rate) * 100
    whole = int(exact)
    expected = Decimal(whole + (exact - whole >= Fraction(1, 2))) / 100

    line = time_line(
        QboRecord(
            "TimeActivity",
            {"TxnDate": "2024-05-13", "Hours": hours, "Minutes": minutes, "CostRate": rate},
        ),
        Lookups(),
    )

    assert line.amount == expected
    assert line.amount >= 0


def _minutes_with_half_cent_rates(minutes):
    # minutes × rate / 60 = (2n + 1) / 200 needs rate = 3(2n + 1) / (10 × minutes), which has at
    # most three decimals when minutes / gcd(minutes, 300) divides the odd 2n + 1.
    return minutes // math.gcd(minutes, 300) % 2 == 1


@given(
    minutes=st.integers(min_value=1, max_value=24 * 60).filter(_minutes_with_half_cent_rates),
    odd=st.integers(min_value=0, max_value=5000).map(lambda j: 2 * j + 1),
)
def test_time_amount_at_exactly_half_a_cent_rounds_up(minutes, odd):
    half_cents = odd * (minutes // math.gcd(minutes, 300))
    rate = Decimal(3 * half_cents) / (10 * minutes)
    assert rate == rate.quantize(Decimal("0.001"))

    line = time_line(
        QboRecord(
            "TimeActivity",
            {
                "TxnDate": "2024-05-13",
                "Hours": minutes // 60,
                "Minutes": minutes % 60,
                "CostRate": rate,
            },
        ),
        Lookups(),
    )

    assert line.amount == Decimal(half_cents + 1) / 200


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


@pytest.mark.parametrize(
    ("data", "hours"),
    [
        ({"Hours": 7, "Minutes": 30}, Decimal("7.5")),
        ({"Hours": 2}, Decimal(2)),
        ({"Minutes": 45}, Decimal("0.75")),
        ({"Hours": 1, "Minutes": 0, "Seconds": 36}, Decimal("1.01")),
        (
            {"StartTime": "2024-05-14T07:00:00-07:00", "EndTime": "2024-05-14T15:30:00-07:00"},
            Decimal("8.5"),
        ),
        (
            {
                "StartTime": "2024-05-14T07:00:00-07:00",
                "EndTime": "2024-05-14T15:30:00-07:00",
                "BreakHours": 1,
                "BreakMinutes": 15,
            },
            Decimal("7.25"),
        ),
        (
            # the same span written in UTC and in Pacific time
            {"StartTime": "2024-05-14T14:00:00Z", "EndTime": "2024-05-14T09:00:00-07:00"},
            Decimal(2),
        ),
        (
            {
                "StartTime": "2024-05-14T07:00:00-07:00",
                "EndTime": "2024-05-14T07:30:00-07:00",
                "BreakHours": 1,
            },
            Decimal(0),
        ),
        ({}, Decimal(0)),
    ],
)
def test_hours_worked_from_hours_and_minutes_or_start_end_and_breaks(data, hours):
    assert hours_worked(QboRecord("TimeActivity", data)) == hours


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
        exclusions=(VENDOR_CREDITS_OFF,),
    )

    assert first.exclusions == (VENDOR_CREDITS_OFF, NON_BILLABLE)
    assert second.exclusions == (VENDOR_CREDITS_OFF,)


def test_expense_lines_keep_the_record_department_as_location():
    data = {"DepartmentRef": {"value": "2", "name": "North"}, "Line": [account_line("1", 1)]}

    (line,) = expense_lines(record(**data), Lookups(), actual_type="bill")

    assert line.location == Ref("2", "North")


@pytest.mark.parametrize(
    ("settings", "applies"),
    [({}, True), ({"vendor_credits": False}, True), ({"vendor_credits": True}, False)],
)
def test_exclusion_on_a_setting_being_off_applies_while_it_is_unset_or_off(settings, applies):
    assert VENDOR_CREDITS_OFF.applies(settings) is applies


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
        exclusions=(Exclusion("other", False, "other is off"), VENDOR_CREDITS_OFF),
    )

    assert line.excluded_by({"exclude_non_billable": True}) == "other is off"
    assert line.excluded_by({"other": True}) == VENDOR_CREDITS_OFF.reason
    on = {"other": True, "vendor_credits": True}
    assert line.excluded_by({**on, "exclude_non_billable": True}) == NON_BILLABLE.reason
    assert line.excluded_by(on) is None
