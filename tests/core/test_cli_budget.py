"""`costbridge budget set|import|history`, beside the budget report that stays as it was."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.cli import main
from core.models import BudgetChange
from core.models import BudgetLine
from tests.factories import make_cost_code
from tests.factories import make_project


def run(rt, *args: str):
    return CliRunner().invoke(main, list(args), obj=rt)


@pytest.fixture
def project(committed_db):
    row = make_project(committed_db, name="Harbor View Duplex")
    make_cost_code(committed_db, row.company, code="01-100", name="General Conditions")
    make_cost_code(committed_db, row.company, code="03-300", name="Concrete")
    committed_db.commit()
    return row


def budget_lines(session, project) -> dict[str, tuple[Decimal, str | None]]:
    session.expire_all()
    report = {}
    for line in session.scalars(select(BudgetLine).where(BudgetLine.project_id == project.id)):
        code = line.cost_code_id
        report[str(code)] = (line.budget_amount, line.description)
    return report


def test_set_by_code_and_name_then_the_report_and_history_show_it(runtime, committed_db, project):
    result = run(
        runtime,
        "budget",
        "set",
        "--project",
        str(project.id),
        "01-100=$12,500.00",
        "concrete=(250)",
    )
    assert result.exit_code == 0, result.output
    assert "add        01-100 General Conditions: 12,500.00" in result.stdout
    assert "2 added, 0 changed, 0 unchanged" in result.stdout
    report = json.loads(
        run(runtime, "budget", "--project", str(project.id), "--format", "json").stdout
    )
    assert report["total_budget"] == "12250.00"
    again = run(runtime, "budget", "set", "--project", str(project.id), "01-100=13000")
    assert "change     01-100 General Conditions: 12,500.00 -> 13,000.00" in again.stdout
    history = json.loads(
        run(runtime, "budget", "history", "--project", str(project.id), "--json").stdout
    )
    # Newest first; the two of one command in the order they were written, latest first.
    assert [(h["what"], h["old"], h["new"], h["source"]) for h in history] == [
        ("Budget 01-100", "12,500.00", "13,000.00", "cli"),
        ("Budget 03-300", "—", "-250.00", "cli"),
        ("Budget 01-100", "—", "12,500.00", "cli"),
    ]
    assert all(h["changed_by"].startswith("command line") for h in history)
    table = run(runtime, "budget", "history", "--project", str(project.id))
    assert "Budget 01-100: 12,500.00 -> 13,000.00" in table.stdout


def test_a_wrong_item_is_one_line_and_saves_nothing(runtime, committed_db, project):
    result = run(runtime, "budget", "set", "--project", str(project.id), "01-100=5", "Concret=1")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "costbridge: No cost code is called “Concret”. Did you mean: “Concrete”?"
    )
    assert budget_lines(committed_db, project) == {}
    bad = run(runtime, "budget", "set", "--project", str(project.id), "01-100=12.345")
    assert bad.exit_code == 1
    assert "cents" in bad.stderr


ESTIMATE = (
    b"\xef\xbb\xbfCost Code,Description,Budget\n"
    b'01-100,Site office,"12,500.00"\n'
    b"03-300,Slab,(75)\n"
    b'Total,,"12,425.00"\n'
)


def test_import_dry_run_shows_the_changes_and_saves_nothing_then_import_saves(
    runtime, committed_db, project, tmp_path
):
    run(runtime, "budget", "set", "--project", str(project.id), "UNCODED=10")
    path = tmp_path / "estimate.csv"
    path.write_bytes(ESTIMATE)
    dry = run(runtime, "budget", "import", "--project", str(project.id), str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Row 4 (“Total”) is a total row: left out." in dry.stdout
    assert "add        03-300 Concrete: -75.00" in dry.stdout
    assert (
        "2 added, 0 changed, 0 unchanged; 1 line(s) not in the list kept as they are "
        "(nothing saved)." in dry.stdout
    )
    assert len(budget_lines(committed_db, project)) == 1
    done = run(runtime, "budget", "import", "--project", str(project.id), str(path), "--json")
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body["saved"] is True
    assert body["kept"] == ["Uncoded"]
    lines = budget_lines(committed_db, project)
    assert sorted(lines.values(), key=lambda v: v[0]) == [
        (Decimal("-75.00"), "Slab"),
        (Decimal("10.00"), None),
        (Decimal("12500.00"), "Site office"),
    ]
    sources = committed_db.scalars(
        select(BudgetChange.source).where(BudgetChange.project_id == project.id)
    ).all()
    assert sorted(sources) == ["cli", "import", "import"]


def test_import_with_wrong_rows_lists_each_and_saves_nothing(
    runtime, committed_db, project, tmp_path
):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Code,Amount\n01-100,100\nNope,5\n03-300,12.345\n")
    result = run(runtime, "budget", "import", "--project", str(project.id), str(path))
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert errors[0].startswith("costbridge: Row 3: No cost code is called “Nope”.")
    assert errors[1].startswith("costbridge: The amount on row 4 “12.345”")
    assert "(nothing saved)" in result.stdout
    assert budget_lines(committed_db, project) == {}


def test_the_report_still_answers_and_options_go_after_the_command(runtime, committed_db, project):
    report = run(runtime, "budget", "--project", str(project.id))
    assert report.exit_code == 0, report.output
    assert f"Budget of project {project.id} “Harbor View Duplex”" in report.stdout
    missing = run(runtime, "budget")
    assert missing.exit_code == 2
    assert "Missing option '--project'" in missing.output
    early = run(runtime, "budget", "--project", str(project.id), "set", "01-100=1")
    assert early.exit_code == 2
    assert "after `budget set`" in early.output
