"""A QBO JournalEntry becomes job costs: debits to the job add, credits take away."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

import plugins.qbo_journal_entries
from core.contracts import Lookups
from core.contracts import QboRecord
from core.contracts import Ref
from core.qbo.transport import loads
from plugins.qbo_journal_entries import pull
from plugins.qbo_journal_entries.settings import NOT_COUNTED

#: A JournalEntry as QBO's read endpoint returns it (Intuit's documented JSON shape).
SAMPLE = Path(__file__).with_name("journalentry.read.response.json")


def journal_entry(**changes):
    data = loads(SAMPLE.read_bytes())["JournalEntry"]
    data.update(changes)
    return QboRecord("JournalEntry", data)


def je_line(line_id, posting, amount, entity=None):
    detail = {"PostingType": posting, "AccountRef": {"value": "81"}}
    if entity is not None:
        detail["Entity"] = entity
    return {
        "Id": line_id,
        "Amount": Decimal(amount),
        "DetailType": "JournalEntryLineDetail",
        "JournalEntryLineDetail": detail,
    }


def test_debit_to_the_job_is_a_positive_journal_entry_cost():
    first = pull.lines(journal_entry(), Lookups())[0]

    assert (first.line_id, first.customer_id, first.actual_type, first.amount) == (
        "0",
        "58",
        "journal_entry",
        Decimal("800.00"),
    )
    assert first.customer_name == "Maple Street Remodel:Kitchen Addition"


def test_credit_to_the_job_is_a_negative_journal_entry_credit():
    second = pull.lines(journal_entry(), Lookups())[1]

    assert (second.customer_id, second.actual_type, second.amount) == (
        "58",
        "journal_entry_credit",
        Decimal("-150.00"),
    )


def test_lines_naming_no_customer_are_kept_with_no_customer():
    lines = pull.lines(journal_entry(), Lookups())

    assert [(line.line_id, line.customer_id, line.amount) for line in lines[2:]] == [
        ("2", None, Decimal("-650.00")),
        ("3", None, Decimal("-400.00")),
        ("4", None, Decimal("400.00")),
    ]


def test_a_vendor_line_is_the_payable_side_and_names_its_payee():
    vendor_line = pull.lines(journal_entry(), Lookups())[3]

    assert (vendor_line.customer_id, vendor_line.payee) == (None, "Hillside Rentals")
    assert vendor_line.account == Ref("33", "Accounts Payable (A/P)")


def test_journal_lines_keep_date_number_account_class_department_and_description():
    first = pull.lines(journal_entry(), Lookups())[0]

    assert first.txn_date == dt.date(2024, 5, 20)
    assert first.doc_number == "JE-0042"
    assert first.account == Ref("81", "Job Expenses:Equipment Rental")
    assert first.klass == Ref("5000000000000012345", "Residential")
    assert first.location == Ref("2", "North")
    assert first.description == "Excavator hours, Kitchen Addition"
    assert (first.currency, first.exchange_rate, first.original_amount) == ("USD", None, None)


def test_journal_lines_have_no_item_so_they_land_in_the_uncoded_row():
    lines = pull.lines(journal_entry(), Lookups(item_cost_codes={"21": 7}))

    assert {(line.item, line.cost_code_id) for line in lines} == {(None, None)}


def test_every_journal_line_is_left_out_until_the_project_counts_journal_entries():
    lines = pull.lines(journal_entry(), Lookups())

    assert {line.exclusions for line in lines} == {(NOT_COUNTED,)}
    assert lines[0].excluded_by({}) == NOT_COUNTED.reason
    assert lines[0].excluded_by({"count_journal_entries": True}) is None


def test_a_foreign_currency_entry_is_converted_once_and_keeps_its_original():
    record = journal_entry(
        CurrencyRef={"value": "CAD"},
        ExchangeRate=Decimal("0.73"),
        Line=[je_line("0", "Debit", "100.01", {"Type": "Customer", "EntityRef": {"value": "58"}})],
    )

    (line,) = pull.lines(record, Lookups())

    assert (line.amount, line.original_amount) == (Decimal("73.01"), Decimal("100.01"))
    assert (line.currency, line.exchange_rate) == ("CAD", Decimal("0.73"))


def test_a_foreign_entry_with_no_rate_is_flagged():
    record = journal_entry(CurrencyRef={"value": "CAD"}, Line=[je_line("0", "Debit", "5")])

    (line,) = pull.lines(record, Lookups())

    assert line.flags == ("no_exchange_rate",)


@pytest.mark.parametrize(
    "line",
    [
        {"Id": "9", "Amount": 5, "DetailType": "DescriptionOnly", "DescriptionLineDetail": {}},
        {"Id": "9", "Amount": 5, "DetailType": "JournalEntryLineDetail"},
        je_line("9", "Sideways", "5"),
        "not a line",
    ],
)
def test_lines_that_move_nothing_are_skipped(line):
    assert pull.lines(journal_entry(Line=[line]), Lookups()) == []


def test_a_line_without_an_id_takes_its_line_number():
    line = je_line(None, "Debit", "5")
    line["LineNum"] = 4

    (candidate,) = pull.lines(journal_entry(Line=[line]), Lookups())

    assert candidate.line_id == "4"


def test_an_employee_line_counts_for_no_job():
    employee = {"Type": "Employee", "EntityRef": {"value": "66", "name": "Dana Ortiz"}}

    (line,) = pull.lines(journal_entry(Line=[je_line("0", "Debit", "5", employee)]), Lookups())

    assert (line.customer_id, line.payee) == (None, "Dana Ortiz")


def test_the_hook_maps_through_the_pull_module():
    record = journal_entry()

    assert list(plugins.qbo_journal_entries.actual_lines(record, Lookups())) == pull.lines(
        record, Lookups()
    )


def test_the_plugin_declares_both_types_with_their_signs():
    info = plugins.qbo_journal_entries.plugin_info()

    assert [(t.name, t.label, t.sign) for t in info.actual_types] == [
        ("journal_entry", "Journal entry", 1),
        ("journal_entry_credit", "Journal entry credit", -1),
    ]
    assert info.owns == ("JournalEntry",)
    assert [(s.key, s.default) for s in info.settings] == [("count_journal_entries", False)]
