"""A QBO TimeActivity becomes one `time` candidate: hours × cost rate, by billable status."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import plugins.qbo_time
from core.contracts import Lookups
from core.contracts import QboRecord
from core.contracts import Ref
from plugins.qbo_time import pull
from plugins.qbo_time.pull import BILLED_TIME_OFF
from plugins.qbo_time.pull import NON_BILLABLE_TIME_OFF
from plugins.qbo_time.pull import hours_worked
from plugins.qbo_time.pull import time_line
from tests.plugins import sample_record

TIME = "timeactivity.response.json"
VENDOR_TIME = "timeactivity.create.request.json"


def vendor_time(**changes):
    return sample_record(VENDOR_TIME, entity="TimeActivity", **changes)


def test_time_sample_is_one_line_of_hours_times_its_cost_rate():
    (line,) = pull.lines(sample_record(TIME), Lookups())

    assert (line.line_id, line.customer_id, line.actual_type) == ("0", "58", "time")
    assert (line.hours, line.cost_rate) == (Decimal("7.50"), Decimal("38.5"))
    assert str(line.amount) == "288.75"
    assert line.flags == ()


def test_time_line_keeps_worker_date_item_class_and_description():
    (line,) = pull.lines(sample_record(TIME), Lookups())

    assert line.payee == "Dana Ortiz"
    assert line.txn_date == dt.date(2024, 5, 13)
    assert line.customer_name == "Maple Street Remodel:Kitchen Addition"
    assert line.item == Ref("19", "Construction:Framing")
    assert line.klass == Ref("5000000000000012345", "Residential")
    assert line.description == "Wall framing, east side"
    assert line.billable_status == "Billable"
    assert (line.doc_number, line.currency) == (None, "USD")


def test_time_item_gets_its_connected_cost_code_or_lands_in_uncoded():
    (coded,) = pull.lines(sample_record(TIME), Lookups(item_cost_codes={"19": 3}))
    (uncoded,) = pull.lines(sample_record(TIME), Lookups(item_cost_codes={"21": 7}))
    (no_item,) = pull.lines(sample_record(TIME, ItemRef=None), Lookups(item_cost_codes={"19": 3}))

    assert coded.cost_code_id == 3
    assert uncoded.cost_code_id is None
    assert (no_item.item, no_item.cost_code_id) == (None, None)


@pytest.mark.parametrize(
    ("status", "settings", "reason"),
    [
        ("Billable", {}, None),
        ("Billable", {"include_billed_time": True, "include_non_billable_time": True}, None),
        ("HasBeenBilled", {}, BILLED_TIME_OFF.reason),
        ("HasBeenBilled", {"include_non_billable_time": True}, BILLED_TIME_OFF.reason),
        ("HasBeenBilled", {"include_billed_time": True}, None),
        ("NotBillable", {}, NON_BILLABLE_TIME_OFF.reason),
        ("NotBillable", {"include_billed_time": True}, NON_BILLABLE_TIME_OFF.reason),
        ("NotBillable", {"include_non_billable_time": True}, None),
        (None, {}, NON_BILLABLE_TIME_OFF.reason),
    ],
)
def test_time_counts_by_billable_status_and_the_project_time_toggles(status, settings, reason):
    (line,) = pull.lines(sample_record(TIME, BillableStatus=status), Lookups())

    assert line.excluded_by(settings) == reason
    assert line.billable_status == (status or "NotBillable")


def test_non_billable_time_is_not_left_out_by_the_bills_toggle():
    (line,) = pull.lines(sample_record(TIME, BillableStatus="NotBillable"), Lookups())

    assert (
        line.excluded_by({"include_non_billable_time": True, "exclude_non_billable": True}) is None
    )


def test_hours_times_rate_is_rounded_half_up_once():
    # 7.5 h × 38.333 = 287.4975
    (line,) = pull.lines(sample_record(TIME, CostRate=Decimal("38.333")), Lookups())

    assert str(line.amount) == "287.50"


@pytest.mark.parametrize(
    ("hours", "minutes", "rate", "amount"),
    [
        (12, 5, Decimal("47.124"), "569.42"),  # 12 1/12 h × 47.124 = 569.415 exactly
        (12, 35, Decimal("50.10"), "630.43"),  # 12 7/12 h × 50.10 = 630.425 exactly
        (0, 20, Decimal("45"), "15.00"),  # 1/3 h never rounds on its own
    ],
)
def test_minutes_that_are_no_exact_decimal_of_an_hour_still_round_once(
    hours, minutes, rate, amount
):
    record = sample_record(TIME, Hours=hours, Minutes=minutes, CostRate=rate)

    (line,) = pull.lines(record, Lookups())

    assert str(line.amount) == amount


def test_time_without_its_own_rate_uses_the_employee_cost_rate():
    lookups = Lookups(
        employee_cost_rates={"66": Decimal("40.25")}, vendor_cost_rates={"66": Decimal("99")}
    )

    (line,) = pull.lines(sample_record(TIME, CostRate=None), lookups)

    assert (line.cost_rate, str(line.amount), line.flags) == (Decimal("40.25"), "301.88", ())


def test_time_own_rate_wins_over_the_employee_cost_rate():
    lookups = Lookups(employee_cost_rates={"66": Decimal("40")})

    (line,) = pull.lines(sample_record(TIME), lookups)

    assert line.cost_rate == Decimal("38.5")


def test_vendor_time_spans_start_to_end_less_its_break():
    # 07:00 to 15:30 less a 30-minute break: 8 h × 55
    (line,) = pull.lines(vendor_time(), Lookups())

    assert (line.hours, line.cost_rate, str(line.amount)) == (Decimal("8.00"), 55, "440.00")
    assert (line.customer_id, line.item, line.payee) == ("58", Ref("23"), "70")
    assert line.txn_date == dt.date(2024, 5, 14)
    assert line.excluded_by({}) == NON_BILLABLE_TIME_OFF.reason


def test_vendor_time_break_hours_and_minutes_both_count():
    record = vendor_time(
        EndTime="2024-05-14T17:15:00-07:00", BreakHours=1, BreakMinutes=15, CostRate=Decimal("55")
    )

    (line,) = pull.lines(record, Lookups())

    assert (line.hours, str(line.amount)) == (Decimal("9.00"), "495.00")


def test_vendor_time_without_its_own_rate_uses_the_vendor_cost_rate():
    lookups = Lookups(
        vendor_cost_rates={"70": Decimal("62.50")}, employee_cost_rates={"70": Decimal("1")}
    )

    (line,) = pull.lines(vendor_time(CostRate=None), lookups)

    assert (line.cost_rate, str(line.amount), line.flags) == (Decimal("62.50"), "500.00", ())


def test_time_with_no_cost_rate_anywhere_counts_zero_and_is_flagged():
    lookups = Lookups(employee_cost_rates={"67": Decimal("40")})

    (line,) = pull.lines(sample_record(TIME, CostRate=None), lookups)

    assert (line.hours, line.cost_rate, str(line.amount)) == (Decimal("7.50"), None, "0.00")
    assert line.flags == ("no_cost_rate",)
    assert line.excluded_by({}) is None


def test_time_with_no_worker_and_no_rate_is_flagged():
    (line,) = pull.lines(sample_record(TIME, CostRate=None, EmployeeRef=None), Lookups())

    assert (line.payee, line.flags) == (None, ("no_cost_rate",))


def test_actual_lines_hook_maps_time_with_the_pull_module():
    record = sample_record(TIME)

    assert plugins.qbo_time.actual_lines(record, Lookups()) == pull.lines(record, Lookups())


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
