"""Budget, doctor and reconciliation against the sandbox's demo company and PostgreSQL."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from decimal import ROUND_HALF_UP
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from core.models import Actual
from core.models import BudgetLine
from core.models import Company
from core.models import CostCode
from core.models import Project
from core.projects import create_project
from core.projects import customer_choices
from core.projects import get_company
from core.projects import link_project
from core.projects import resolve_customer
from core.qbo import client_for
from core.sync import doctor
from core.sync import reports
from core.sync.engine import pull_company
from costbridge_testing.sandbox import connect_company

CUSTOMER = "Maple Street Remodel:Kitchen Addition"
PARENT = "Maple Street Remodel"
#: A smaller demo company keeps each pull to a second or two.
DEMO_SIZE = 0.25


def seed_demo(sandbox_url: str) -> str:
    """Seed a (small) demo company in the sandbox; returns its realm hint."""
    hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id
    resp = requests.post(
        f"{sandbox_url}/_sandbox/seed",
        json={"kind": "demo", "realm_id": hint, "size": DEMO_SIZE},
        timeout=120,
    )
    resp.raise_for_status()
    return hint


def raw_records(sandbox_url: str, realm: str, entity: str) -> list[dict]:
    resp = requests.get(
        f"{sandbox_url}/_sandbox/state", params={"realm": realm, "entity": entity}, timeout=60
    )
    resp.raise_for_status()
    return resp.json()["entities"][entity]


def raw_bill_total(sandbox_url: str, realm: str, customer_id: str) -> Decimal:
    """Independently: every Bill expense line for the customer, in home currency (USD)."""
    total = Decimal("0.00")
    for bill in raw_records(sandbox_url, realm, "Bill"):
        if bill.get("status") in ("Deleted", "Voided"):
            continue
        foreign = (bill.get("CurrencyRef") or {}).get("value", "USD") != "USD"
        rate = Decimal(str(bill.get("ExchangeRate") or 1)) if foreign else Decimal(1)
        for line in bill.get("Line", []):
            detail = line.get(line.get("DetailType"), {})
            if (detail.get("CustomerRef") or {}).get("value") != customer_id:
                continue
            amount = Decimal(str(line["Amount"])) * rate
            total += amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return total


@pytest.fixture(scope="module")
def demo_hint(qbo_sandbox) -> str:
    return seed_demo(qbo_sandbox.url)


@pytest.fixture
def demo_realm(qbo_runtime, company, sandbox_control, demo_hint) -> str:
    """`company` connected to the module's demo company (nothing pulled yet)."""
    return connect_company(
        qbo_runtime.settings, qbo_runtime.sessions, company.id, realm_hint=demo_hint
    )


def make_linked_project(rt, company_id: int, ref: str = CUSTOMER) -> int:
    with rt.sessions() as session:
        company = get_company(session, company_id)
        project = create_project(session, rt.pm, company, "Maple Street")
        choice = resolve_customer(customer_choices(client_for(rt, str(company.realm_id))), ref)
        link_project(session, rt.pm, project, choice)
        session.commit()
        return project.id


def counting_rows(session, project_id: int) -> list[Actual]:
    return list(
        session.scalars(
            select(Actual).where(Actual.project_id == project_id, Actual.excluded_reason.is_(None))
        )
    )


def test_budget_of_an_empty_project_has_exactly_one_uncoded_row(db, pm):
    company = Company(name="Ridgeline Builders")
    db.add(company)
    db.flush()
    project = create_project(db, pm, company, "Nothing yet")
    db.add(BudgetLine(project_id=project.id, cost_code_id=None, budget_amount=Decimal("250.00")))
    db.flush()
    report = reports.budget(db, project)
    assert [(r.code, r.budgeted, r.actual, r.variance) for r in report.lines] == [
        (reports.UNCODED_CODE, Decimal("250.00"), Decimal("0.00"), Decimal("250.00"))
    ]
    assert report.as_json()["total_actual"] == "0.00"
    assert report.as_json()["total_budget"] == "250.00"


def test_budget_sums_counting_actuals_per_cost_code_and_type(
    qbo_runtime, company, committed_db, demo_realm, qbo_sandbox
):
    client = client_for(qbo_runtime, demo_realm)
    customer = resolve_customer(customer_choices(client), CUSTOMER)
    items = Counter(
        line["ItemBasedExpenseLineDetail"]["ItemRef"]["value"]
        for bill in raw_records(qbo_sandbox.url, demo_realm, "Bill")
        for line in bill.get("Line", [])
        if line.get("DetailType") == "ItemBasedExpenseLineDetail"
        and (line["ItemBasedExpenseLineDetail"].get("CustomerRef") or {}).get("value")
        == customer.id
    )
    assert items, "the demo company has item-based bill lines for the customer"
    item_id = items.most_common(1)[0][0]
    code = CostCode(
        company_id=company.id, code="03-300", name="Concrete", qbo_item_id=item_id, sells=True
    )
    committed_db.add(code)
    committed_db.commit()
    project_id = make_linked_project(qbo_runtime, company.id)
    committed_db.add_all(
        [
            BudgetLine(project_id=project_id, cost_code_id=code.id, budget_amount=Decimal("5000")),
            BudgetLine(project_id=project_id, cost_code_id=None, budget_amount=Decimal("1000")),
        ]
    )
    committed_db.commit()
    assert pull_company(qbo_runtime, company.id).state.value == "succeeded"
    committed_db.expire_all()

    project = committed_db.get(Project, project_id)
    report = reports.budget(committed_db, project)
    rows = counting_rows(committed_db, project_id)
    by_code = {r.cost_code_id: r for r in report.lines}
    assert [r.cost_code_id for r in report.lines].count(None) == 1
    coded = sum((a.amount for a in rows if a.cost_code_id == code.id), Decimal("0.00"))
    uncoded = sum((a.amount for a in rows if a.cost_code_id is None), Decimal("0.00"))
    assert coded > 0
    assert by_code[code.id].actual == coded
    assert by_code[code.id].variance == Decimal("5000.00") - coded
    assert by_code[None].actual == uncoded
    assert by_code[None].budgeted == Decimal("1000.00")
    assert report.total_actual == coded + uncoded
    assert report.total_budget == Decimal("6000.00")
    by_type: dict[str, Decimal] = {}
    for a in rows:
        by_type[a.actual_type] = by_type.get(a.actual_type, Decimal(0)) + a.amount
    assert report.totals_by_type == by_type
    assert report.totals_by_type["bill"] == raw_bill_total(qbo_sandbox.url, demo_realm, customer.id)
    assert report.as_json()["total_actual"] == str(coded + uncoded)


def test_doctor_names_an_unlinked_project_of_a_disconnected_company(db, pm):
    company = Company(name="Ridgeline Builders")
    db.add(company)
    db.flush()
    project = create_project(db, pm, company, "Not linked")
    codes = [f.code for f in doctor.doctor(db, pm, project, company)]
    assert codes == ["not_linked", "company_disconnected"]


def test_doctor_says_a_connected_company_was_never_pulled(qbo_runtime, company, demo_realm):
    project_id = make_linked_project(qbo_runtime, company.id)
    with qbo_runtime.sessions() as session:
        project = session.get(Project, project_id)
        found = {f.code for f in doctor.doctor(session, qbo_runtime.pm, project, project.company)}
    assert "never_pulled" in found
    assert "not_linked" not in found


def test_doctor_finds_uncoded_items_and_sub_customer_lines_after_a_pull(
    qbo_runtime, company, demo_realm, committed_db
):
    parent_id = make_linked_project(qbo_runtime, company.id, PARENT)
    project_id = make_linked_project(qbo_runtime, company.id, CUSTOMER)
    pull_company(qbo_runtime, company.id)
    committed_db.expire_all()
    project = committed_db.get(Project, project_id)
    findings = {f.code: f for f in doctor.doctor(committed_db, qbo_runtime.pm, project, company)}
    assert "never_pulled" not in findings
    uncoded = findings["uncoded_items"]
    item_lines = [
        a
        for a in counting_rows(committed_db, project_id)
        if a.cost_code_id is None and a.qbo_item_id
    ]
    assert uncoded.count == len(item_lines) > 0
    assert 0 < len(uncoded.examples) <= 5
    assert all(e.split()[0] in {"Bill", "Purchase", "VendorCredit"} for e in uncoded.examples)
    assert "connect these items to cost codes" in uncoded.fix.lower()
    excluded = Counter(
        a.excluded_reason
        for a in committed_db.scalars(select(Actual).where(Actual.project_id == project_id))
        if a.excluded_reason
    )
    every = doctor.doctor(committed_db, qbo_runtime.pm, project, company)
    for reason, n in excluded.items():
        assert any(f.count == n and reason in f.message for f in every), reason

    parent = committed_db.get(Project, parent_id)
    on_parent = {f.code: f for f in doctor.doctor(committed_db, qbo_runtime.pm, parent, company)}
    orphans = committed_db.scalars(
        select(Actual).where(Actual.customer_name.like(f"{PARENT}:%"), Actual.project_id.is_(None))
    ).all()
    assert orphans, "the demo has costs on Maple Street's other job"
    assert on_parent["sub_customer_lines"].count == len(orphans)
    assert "Garage Conversion" in on_parent["sub_customer_lines"].message
    assert "Kitchen Addition" not in on_parent["sub_customer_lines"].message


def test_reconcile_is_in_step_right_after_a_pull(qbo_runtime, company, demo_realm, committed_db):
    project_id = make_linked_project(qbo_runtime, company.id)
    pull_company(qbo_runtime, company.id)
    committed_db.expire_all()
    project = committed_db.get(Project, project_id)
    result = reports.reconcile(
        committed_db, qbo_runtime.pm, project, company, client_for(qbo_runtime, demo_realm)
    )
    assert result.in_step, result.as_json()
    assert result.by_type
    assert result.records_read > 0


def bump_a_bill_line(rt, realm: str, customer_id: str, delta: Decimal) -> str:
    """Change one of the customer's Bill lines in QBO (through the API); returns the bill id.

    An account-based line: an item-based one must keep Amount = Qty x UnitPrice, so QBO
    refuses a change of its amount alone.
    """
    client = client_for(rt, realm)
    for bill in client.query_all("Bill"):
        for line in bill.get("Line", []):
            if line.get("DetailType") != "AccountBasedExpenseLineDetail":
                continue
            detail = line["AccountBasedExpenseLineDetail"]
            if (detail.get("CustomerRef") or {}).get("value") == customer_id:
                line["Amount"] = str(Decimal(str(line["Amount"])) + delta)
                client.update("Bill", bill, request_id=uuid.uuid4().hex)
                return str(bill["Id"])
    raise AssertionError("no bill line for the customer")


def test_reconcile_shows_the_record_changed_in_qbo_since_the_pull(
    qbo_runtime, company, demo_realm, committed_db
):
    project_id = make_linked_project(qbo_runtime, company.id)
    pull_company(qbo_runtime, company.id)
    committed_db.expire_all()
    project = committed_db.get(Project, project_id)
    bill_id = bump_a_bill_line(qbo_runtime, demo_realm, str(project.qbo_customer_id), Decimal(10))
    result = reports.reconcile(
        committed_db, qbo_runtime.pm, project, company, client_for(qbo_runtime, demo_realm)
    )
    assert not result.in_step
    assert [(d.entity, d.qbo_id, d.kind) for d in result.drift] == [
        ("Bill", bill_id, "amount_differs")
    ]
    drift = result.drift[0]
    assert drift.fresh is not None
    assert drift.stored is not None
    assert drift.fresh - drift.stored == Decimal("10.00")
    assert {t.actual_type: t.difference for t in result.by_type}["bill"] == Decimal("10.00")
