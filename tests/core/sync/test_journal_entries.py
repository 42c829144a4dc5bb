"""A plugin the core has never heard of, end to end: a QBO JournalEntry, served by the sandbox
over HTTP, becomes `journal_entry` actuals in the project's budget (issue 19)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.models import Actual
from core.models import Project
from core.models import RunState
from core.plugins import actual_type_label
from core.qbo import client_for
from core.qbo import queries
from core.sync.engine import pull_company
from core.sync.reports import budget


def _line(posting: str, amount: str, account: str, entity: dict[str, Any] | None = None):
    detail: dict[str, Any] = {"PostingType": posting, "AccountRef": {"value": account}}
    if entity is not None:
        detail["Entity"] = entity
    return {
        "Amount": Decimal(amount),
        "DetailType": "JournalEntryLineDetail",
        "Description": f"{posting} {amount}",
        "JournalEntryLineDetail": detail,
    }


@pytest.fixture
def posted(qbo_runtime, realm_id):
    """A job customer, and a journal entry moving equipment cost onto it (and some back)."""
    client = client_for(qbo_runtime, realm_id)

    def account(kind: str) -> str:
        rows = client.query(queries.select("Account", queries.eq("AccountType", kind)))["Account"]
        return str(rows[0]["Id"])

    expense, bank = account("Cost of Goods Sold"), account("Bank")
    job = client.create(
        "Customer", {"DisplayName": "Maple Street Remodel"}, request_id=uuid.uuid4().hex
    )
    customer = {"Type": "Customer", "EntityRef": {"value": str(job["Id"])}}
    entry = client.create(
        "JournalEntry",
        {
            "TxnDate": "2024-05-20",
            "DocNumber": "JE-42",
            "Line": [
                _line("Debit", "800.00", expense, customer),
                _line("Credit", "150.00", expense, customer),
                _line("Credit", "650.00", bank),
            ],
        },
        request_id=uuid.uuid4().hex,
    )
    return {"customer_id": str(job["Id"]), "entry": entry}


def _actuals(db, project_id):
    return sorted(
        (a.actual_type, a.amount, a.cost_code_id, a.excluded_reason)
        for a in db.scalars(select(Actual).where(Actual.project_id == project_id))
    )


def test_a_journal_entry_is_pulled_into_the_project_budget_as_journal_entry_actuals(
    qbo_runtime, company, committed_db, project_factory, posted
):
    project = project_factory({"count_journal_entries": True}, customer_id=posted["customer_id"])

    report = pull_company(qbo_runtime, company.id)

    assert report.state == RunState.SUCCEEDED, report.message
    assert _actuals(committed_db, project.id) == [
        ("journal_entry", Decimal("800.00"), None, None),
        ("journal_entry_credit", Decimal("-150.00"), None, None),
    ]
    totals = budget(committed_db, committed_db.get(Project, project.id))
    assert totals.totals_by_type == {
        "journal_entry": Decimal("800.00"),
        "journal_entry_credit": Decimal("-150.00"),
    }
    assert totals.total_actual == Decimal("650.00")
    assert actual_type_label(qbo_runtime.pm, "journal_entry") == "Journal entry"


def test_journal_entries_are_read_but_left_out_until_the_project_counts_them(
    qbo_runtime, company, committed_db, project_factory, posted
):
    project = project_factory({}, customer_id=posted["customer_id"])

    report = pull_company(qbo_runtime, company.id)

    assert report.modes["JournalEntry"] == "query"
    reasons = {row[3] for row in _actuals(committed_db, project.id)}
    assert reasons == {"a journal entry, and this project does not count journal entries"}
    assert budget(committed_db, committed_db.get(Project, project.id)).total_actual == 0


def test_a_backfill_reads_journal_entries_whole_and_changes_nothing(
    qbo_runtime, company, committed_db, project_factory, posted
):
    # The core's table of queryable fields does not list JournalEntry, so `since` cannot filter
    # it by TxnDate in the query: the backfill reads every entry and applies it again.
    project = project_factory({"count_journal_entries": True}, customer_id=posted["customer_id"])
    pull_company(qbo_runtime, company.id)
    before = _actuals(committed_db, project.id)

    report = pull_company(qbo_runtime, company.id, since=dt.date(2024, 6, 1))

    assert report.state == RunState.SUCCEEDED, report.message
    assert report.modes["JournalEntry"] == "since 2024-06-01"
    committed_db.expire_all()
    assert _actuals(committed_db, project.id) == before
