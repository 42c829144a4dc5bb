"""The sync commands (companies, projects, sync, budget, doctor, reconcile) end to end."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func
from sqlalchemy import select

from core.cli import main
from core.models import Actual
from core.models import Project
from core.models import SettingChange
from core.models import SyncRun
from core.qbo import client_for
from costbridge_testing.sandbox import connect_company
from tests.core.sync.test_reports import CUSTOMER
from tests.core.sync.test_reports import bump_a_bill_line
from tests.core.sync.test_reports import raw_bill_total
from tests.core.sync.test_reports import seed_demo


def run(rt, *args: str):
    """Invoke `costbridge ARGS` on the test runtime (passed as click's obj)."""
    return CliRunner().invoke(main, list(args), obj=rt)


def ok_json(rt, *args: str):
    result = run(rt, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def demo_hint(qbo_sandbox) -> str:
    return seed_demo(qbo_sandbox.url)


@pytest.fixture
def demo_realm(qbo_runtime, company, sandbox_control, demo_hint) -> str:
    return connect_company(
        qbo_runtime.settings, qbo_runtime.sessions, company.id, realm_hint=demo_hint
    )


def new_project(rt, company_id: int, *extra: str) -> dict:
    return ok_json(
        rt,
        "projects",
        "create",
        "--company",
        str(company_id),
        "--name",
        "Kitchen",
        "--json",
        *extra,
    )


def test_companies_create_then_list_as_json(runtime, committed_db):
    made = ok_json(runtime, "companies", "create", "Ridgeline Builders", "--json")
    listed = ok_json(runtime, "companies", "list", "--json")
    assert listed == [
        {
            "id": made["id"],
            "name": "Ridgeline Builders",
            "connection_status": "disconnected",
            "realm_id": None,
            "qbo_company_name": None,
        }
    ]


def test_unknown_project_is_one_line_and_exit_1(runtime, committed_db):
    result = run(runtime, "budget", "--project", "999999")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "costbridge: There is no project 999999. Run `costbridge projects list`."
    )
    assert "Traceback" not in result.output


def test_projects_create_links_by_full_name(qbo_runtime, company, demo_realm):
    made = new_project(qbo_runtime, company.id, "--customer", CUSTOMER)
    assert made["qbo_customer_name"] == CUSTOMER
    listed = ok_json(qbo_runtime, "projects", "list", "--json")
    assert [(p["id"], p["qbo_customer_id"]) for p in listed] == [
        (made["id"], made["qbo_customer_id"])
    ]


def test_projects_link_by_id(qbo_runtime, company, demo_realm):
    made = new_project(qbo_runtime, company.id)
    assert made["qbo_customer_id"] is None
    client = client_for(qbo_runtime, demo_realm)
    customer = next(
        c for c in client.query_all("Customer") if c.get("FullyQualifiedName") == CUSTOMER
    )
    result = run(qbo_runtime, "projects", "link", str(made["id"]), "--customer", customer["Id"])
    assert result.exit_code == 0, result.output
    assert f"linked to {CUSTOMER}" in result.stdout


def test_projects_link_refuses_an_unknown_customer_naming_candidates(
    qbo_runtime, company, demo_realm
):
    made = new_project(qbo_runtime, company.id)
    result = run(qbo_runtime, "projects", "link", str(made["id"]), "--customer", "Maple Stret")
    assert result.exit_code == 1
    assert result.stderr.startswith("costbridge: No QuickBooks customer is called “Maple Stret”.")
    assert "Did you mean: " in result.stderr
    assert "Maple Street Remodel" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_ambiguous_customer_name_is_refused_with_the_candidates():
    # The sandbox (like QBO) refuses two active customers with one name, so an ambiguous short
    # name cannot be set up there; the refusal the CLI prints is checked on the resolver.
    from core.projects import CustomerChoice
    from core.projects import NotFound
    from core.projects import resolve_customer

    choices = [
        CustomerChoice("7", "Maple Street Remodel:Kitchen Addition", "Kitchen Addition", True, "5"),
        CustomerChoice("9", "Harborview:Annex:Kitchen Addition", "Annex Kitchen", False, "8"),
    ]
    with pytest.raises(NotFound) as refused:
        resolve_customer(choices, "Kitchen Addition")
    assert "Maple Street Remodel:Kitchen Addition (id 7)" in refused.value.message
    assert "Harborview:Annex:Kitchen Addition (id 9)" in refused.value.message
    assert refused.value.fix == "Give the full name or the id of the one you mean."


def test_projects_set_saves_parsed_values_with_history(runtime, committed_db):
    company = ok_json(runtime, "companies", "create", "Ridgeline Builders", "--json")
    made = new_project(runtime, company["id"])
    result = run(
        runtime, "projects", "set", str(made["id"]), "vendor_credits=on", "exclude_non_billable=yes"
    )
    assert result.exit_code == 0, result.output
    committed_db.expire_all()
    project = committed_db.get(Project, made["id"])
    assert project.settings["vendor_credits"] is True
    assert project.settings["exclude_non_billable"] is True
    history = committed_db.scalars(
        select(SettingChange).where(SettingChange.project_id == made["id"])
    ).all()
    assert {(h.key, h.old_value, h.new_value, h.changed_by) for h in history} == {
        ("vendor_credits", False, True, "command line"),
        ("exclude_non_billable", False, True, "command line"),
    }


def test_projects_set_refuses_with_each_problem_and_its_fix(runtime, committed_db):
    company = ok_json(runtime, "companies", "create", "Ridgeline Builders", "--json")
    made = new_project(runtime, company["id"])
    result = run(runtime, "projects", "set", str(made["id"]), "push_bills=on")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("costbridge: ")
    assert "first" in lines[0]  # the fix: choose what it requires first
    bad = run(runtime, "projects", "set", str(made["id"]), "vendor_credits=maybe", "nope=1")
    assert bad.exit_code == 1
    assert "Use on or off" in bad.stderr
    committed_db.expire_all()
    assert committed_db.get(Project, made["id"]).settings == {}
    assert committed_db.scalar(select(func.count()).select_from(SettingChange)) == 0


def counting_total(session, project_id: int) -> Decimal:
    return session.scalar(
        select(func.coalesce(func.sum(Actual.amount), 0)).where(
            Actual.project_id == project_id, Actual.excluded_reason.is_(None)
        )
    )


def test_pull_then_budget_totals_match_the_actuals_and_qbo(
    qbo_runtime, company, demo_realm, committed_db, qbo_sandbox
):
    made = new_project(qbo_runtime, company.id, "--customer", CUSTOMER)
    pulled = ok_json(qbo_runtime, "sync", "pull", "--project", str(made["id"]), "--json")
    assert pulled["state"] == "succeeded"
    assert pulled["changes"]
    assert {c["project_id"] for c in pulled["changes"]} == {made["id"]}
    report = ok_json(qbo_runtime, "budget", "--project", str(made["id"]), "--format", "json")
    assert Decimal(report["total_actual"]) == counting_total(committed_db, made["id"])
    assert Decimal(report["totals_by_type"]["bill"]) == raw_bill_total(
        qbo_sandbox.url, demo_realm, made["qbo_customer_id"]
    )
    assert sum(Decimal(v) for v in report["totals_by_type"].values()) == Decimal(
        report["total_actual"]
    )
    assert [line["code"] for line in report["lines"]] == ["UNCODED"]
    csv_out = run(qbo_runtime, "budget", "--project", str(made["id"]), "--format", "csv")
    assert csv_out.stdout.splitlines()[-1].startswith("TOTAL,,0.00,")


def test_dry_run_lists_changes_and_writes_nothing(qbo_runtime, company, demo_realm, committed_db):
    made = new_project(qbo_runtime, company.id, "--customer", CUSTOMER)
    report = ok_json(
        qbo_runtime, "sync", "pull", "--project", str(made["id"]), "--dry-run", "--json"
    )
    assert report["dry_run"] is True
    assert report["changes"]
    assert all(c["action"] == "add" for c in report["changes"])
    assert committed_db.scalar(select(func.count()).select_from(Actual)) == 0
    assert committed_db.scalar(select(func.count()).select_from(SyncRun)) == 0


def test_pull_needs_exactly_one_of_project_or_company(runtime, committed_db):
    result = run(runtime, "sync", "pull")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "costbridge: Say what to pull. Give exactly one of --project ID or --company ID."
    )


def test_doctor_says_not_linked(qbo_runtime, company, demo_realm):
    made = new_project(qbo_runtime, company.id)
    found = ok_json(qbo_runtime, "doctor", "--project", str(made["id"]), "--json")
    assert found["findings"][0]["code"] == "not_linked"


def test_doctor_names_uncoded_items_after_a_pull(qbo_runtime, company, demo_realm):
    made = new_project(qbo_runtime, company.id, "--customer", CUSTOMER)
    ok_json(qbo_runtime, "sync", "pull", "--company", str(company.id), "--json")
    found = ok_json(qbo_runtime, "doctor", "--project", str(made["id"]), "--json")
    codes = {f["code"]: f for f in found["findings"]}
    assert "not_linked" not in codes
    assert codes["uncoded_items"]["count"] > 0
    assert codes["uncoded_items"]["examples"]
    text = run(qbo_runtime, "doctor", "--project", str(made["id"]))
    assert "Connect these items to cost codes" in text.stdout


def test_reconcile_in_step_after_a_pull_and_drift_after_a_qbo_edit(
    qbo_runtime, company, demo_realm
):
    made = new_project(qbo_runtime, company.id, "--customer", CUSTOMER)
    ok_json(qbo_runtime, "sync", "pull", "--project", str(made["id"]), "--json")
    before = ok_json(qbo_runtime, "reconcile", "--project", str(made["id"]), "--json")
    assert before["in_step"] is True
    assert before["drift"] == []
    bill_id = bump_a_bill_line(qbo_runtime, demo_realm, made["qbo_customer_id"], Decimal("7.25"))
    drifted = run(qbo_runtime, "reconcile", "--project", str(made["id"]), "--json")
    assert drifted.exit_code == 3, drifted.output  # DRIFT_EXIT: a scheduled check can alert
    after = json.loads(drifted.stdout)
    assert after["in_step"] is False
    assert [(d["entity"], d["qbo_id"], d["kind"]) for d in after["drift"]] == [
        ("Bill", bill_id, "amount_differs")
    ]
    bill = next(t for t in after["by_type"] if t["actual_type"] == "bill")
    assert bill["difference"] == "7.25"
    text = run(qbo_runtime, "reconcile", "--project", str(made["id"]))
    assert text.exit_code == 3
    assert f"Bill {bill_id}: amounts differ" in text.stdout
