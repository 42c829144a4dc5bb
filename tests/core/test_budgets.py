"""Budget lines: entries, CSV imports read as estimating tools write them, history kept."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from core.budget_import import MAX_IMPORT_BYTES
from core.budget_import import entries_from_json
from core.budget_import import entries_json
from core.budget_import import read_csv
from core.budgets import BudgetEntry
from core.budgets import apply_budget
from core.budgets import apply_confirmed
from core.budgets import budget_grid
from core.budgets import parse_assignments
from core.budgets import typed_entries
from core.errors import CostbridgeError
from core.history import project_history
from core.models import BudgetChange
from core.models import BudgetLine
from core.models import SettingChange
from core.sync.reports import budget
from tests.factories import make_company
from tests.factories import make_cost_code
from tests.factories import make_project


@pytest.fixture
def project(db):
    row = make_project(db)
    make_cost_code(db, row.company, code="01-100", name="General Conditions")
    make_cost_code(db, row.company, code="03-300", name="Concrete")
    make_cost_code(db, row.company, code="06-200", name="Finish Carpentry")
    db.flush()
    return row


def code_id(db, project, code: str) -> int:
    from core.models import CostCode

    return db.scalars(
        select(CostCode.id).where(CostCode.company_id == project.company_id, CostCode.code == code)
    ).one()


def lines(db, project) -> dict[int | None, tuple[Decimal, str | None]]:
    return {
        line.cost_code_id: (line.budget_amount, line.description)
        for line in db.scalars(select(BudgetLine).where(BudgetLine.project_id == project.id))
    }


def changes(db, project) -> list[tuple]:
    return [
        (c.code, c.old_amount, c.new_amount, c.old_description, c.new_description, c.source)
        for c in db.scalars(
            select(BudgetChange)
            .where(BudgetChange.project_id == project.id)
            .order_by(BudgetChange.id)
        )
    ]


# -- set by hand ----------------------------------------------------------------------------------


def test_set_by_code_or_name_with_separators_dollars_and_parentheses(db, project):
    entries = parse_assignments(
        db, project, ["01-100=$12,500.00", "concrete=(250)", "UNCODED=1000.5"]
    )
    plan = apply_budget(db, project, entries, source="cli", changed_by="command line:ann")
    assert plan.counts == {"add": 3, "change": 0, "unchanged": 0, "kept": 0}
    assert lines(db, project) == {
        code_id(db, project, "01-100"): (Decimal("12500.00"), None),
        code_id(db, project, "03-300"): (Decimal("-250.00"), None),
        None: (Decimal("1000.50"), None),
    }
    report = budget(db, project)
    assert report.total_budget == Decimal("13250.50")


def test_an_unknown_code_names_the_closest_and_saves_nothing(db, project):
    with pytest.raises(CostbridgeError) as caught:
        parse_assignments(db, project, ["01-100=5", "Finish Carpentr=10"])
    assert "No cost code is called “Finish Carpentr”." in caught.value.message
    assert "Finish Carpentry" in caught.value.fix
    assert lines(db, project) == {}


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("01-100", "is not CODE=AMOUNT"),
        ("=50", "is not CODE=AMOUNT"),
        ("01-100=12.345", "cents"),
        ("01-100=abc", "is not a number"),
        ("01-100=1e5", "is not a number"),
        ("01-100=1,000,000,000,000", "is too large"),
    ],
)
def test_bad_items_are_refused_in_words(db, project, item, words):
    with pytest.raises(CostbridgeError) as caught:
        parse_assignments(db, project, [item])
    assert words in f"{caught.value.message} {caught.value.fix}"


def test_another_companys_cost_code_is_refused(db, project):
    other = make_cost_code(db, make_company(db), code="99-999", name="Elsewhere")
    with pytest.raises(CostbridgeError, match="not one of this project's company's"):
        apply_budget(
            db, project, [BudgetEntry(other.id, Decimal(5))], source="console", changed_by="x"
        )
    assert lines(db, project) == {}


def test_every_change_is_kept_with_who_when_how_old_and_new(db, project):
    concrete = code_id(db, project, "03-300")
    with freeze_time("2026-03-02 15:00:00"):
        apply_budget(
            db,
            project,
            [BudgetEntry(concrete, Decimal("100.00"), "Slab")],
            source="console",
            changed_by="console:ann@example.com",
        )
    with freeze_time("2026-03-03 09:30:00"):
        same = apply_budget(
            db,
            project,
            [BudgetEntry(concrete, Decimal("100.00"))],
            source="cli",
            changed_by="command line:bob",
        )
        assert same.counts["unchanged"] == 1
        apply_budget(
            db,
            project,
            [BudgetEntry(concrete, Decimal("150.00"))],
            source="import",
            changed_by="command line:bob",
        )
    assert changes(db, project) == [
        ("03-300", None, Decimal("100.00"), None, "Slab", "console"),
        ("03-300", Decimal("100.00"), Decimal("150.00"), "Slab", "Slab", "import"),
    ]
    db.add(
        SettingChange(
            project_id=project.id,
            key="vendor_credits",
            old_value=False,
            new_value=True,
            changed_by="console",
            changed_at=dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC),
        )
    )
    db.flush()
    history = project_history(db, project)
    assert [(h.kind, h.changed_by, h.what, h.old, h.new) for h in history] == [
        ("budget", "command line:bob", "Budget 03-300", "100.00 (Slab)", "150.00 (Slab)"),
        ("setting", "console", "Setting vendor_credits", "off", "on"),
        ("budget", "console:ann@example.com", "Budget 03-300", "—", "100.00 (Slab)"),
    ]
    assert history[0].changed_at == dt.datetime(2026, 3, 3, 9, 30, tzinfo=dt.UTC)


def test_an_empty_description_clears_it_and_none_keeps_it(db, project):
    concrete = code_id(db, project, "03-300")
    apply_budget(
        db, project, [BudgetEntry(concrete, Decimal(1), "Slab")], source="cli", changed_by="a"
    )
    apply_budget(db, project, [BudgetEntry(concrete, Decimal(2))], source="cli", changed_by="a")
    assert lines(db, project)[concrete] == (Decimal("2.00"), "Slab")
    apply_budget(db, project, [BudgetEntry(concrete, Decimal(2), "")], source="cli", changed_by="a")
    assert lines(db, project)[concrete] == (Decimal("2.00"), None)


def test_typed_grid_values_blank_is_zero_and_each_wrong_one_is_named(db, project):
    concrete = code_id(db, project, "03-300")
    entries, problems = typed_entries({concrete: ("", None), None: ("12.5.0", None)})
    assert entries == [BudgetEntry(concrete, Decimal("0.00"), None)]
    assert "is not a number" in problems[None]


# -- CSV ------------------------------------------------------------------------------------------

ESTIMATE = (
    "\ufeffCost Code,Description,Qty,Budget\r\n"
    '01-100,General conditions,1,"$12,500.00"\r\n'
    'Concrete,Slab and footings,1,"(1,250.50)"\r\n'
    "\r\n"
    'Grand Total,,,"11,249.50"\r\n'
).encode()


def test_an_estimating_export_is_read_with_its_header_bom_separators_and_total_row(db, project):
    plan = read_csv(db, project, ESTIMATE)
    assert plan.ok, plan.problems
    assert plan.skipped == ("Row 5 (“Grand Total”) is a total row: left out.",)
    assert [(c.code, c.action, c.new_amount, c.new_description) for c in plan.changes] == [
        ("01-100", "add", Decimal("12500.00"), "General conditions"),
        ("03-300", "add", Decimal("-1250.50"), "Slab and footings"),
    ]
    assert lines(db, project) == {}  # a preview writes nothing


def test_preview_says_what_changes_and_which_lines_are_kept(db, project):
    carpentry = code_id(db, project, "06-200")
    general = code_id(db, project, "01-100")
    apply_budget(
        db,
        project,
        [BudgetEntry(carpentry, Decimal(900)), BudgetEntry(general, Decimal("12500"))],
        source="console",
        changed_by="a",
    )
    plan = read_csv(db, project, ESTIMATE)
    assert [(c.code, c.action, c.old_amount) for c in plan.changes] == [
        ("01-100", "change", Decimal("12500.00")),  # the description is new
        ("03-300", "add", None),
    ]
    assert plan.kept == ("06-200 Finish Carpentry",)
    assert plan.counts == {"add": 1, "change": 1, "unchanged": 0, "kept": 1}
    apply_confirmed(db, project, plan.entries, plan.fingerprint, source="import", changed_by="a")
    assert lines(db, project)[carpentry] == (Decimal("900.00"), None)
    assert lines(db, project)[general] == (Decimal("12500.00"), "General conditions")


def test_no_header_means_code_amount_description(db, project):
    plan = read_csv(db, project, b"01-100,100\n03-300;x,200,Pour\n")
    assert [(p.row, p.message) for p in plan.problems] == [
        (2, "Row 2: No cost code is called “03-300;x”.")
    ]
    plan = read_csv(db, project, b"01-100,100\n03-300,200,Pour\n")
    assert [(c.code, c.new_amount, c.new_description) for c in plan.changes] == [
        ("01-100", Decimal("100.00"), None),
        ("03-300", Decimal("200.00"), "Pour"),
    ]


def test_semicolon_and_tab_separated_files_and_windows_encoding(db, project):
    plan = read_csv(db, project, "Code;Amount;Description\n01-100;100;Café\n".encode("cp1252"))
    assert plan.ok
    assert plan.changes[0].new_description == "Café"
    plan = read_csv(db, project, b"Code\tTotal\n01-100\t1,234\n")
    assert plan.changes[0].new_amount == Decimal("1234.00")


def test_every_wrong_row_has_its_number_the_problem_and_the_fix(db, project):
    data = b"Code,Amount\n01-100,12.345\nNowhere,10\n,50\n03-300,\n06-200,abc\n01-100,5\n"
    plan = read_csv(db, project, data)
    assert not plan.ok
    assert [p.row for p in plan.problems] == [2, 3, 4, 5, 6, 7]
    words = {p.row: f"{p.message} {p.fix}" for p in plan.problems}
    assert "cents" in words[2]
    assert "No cost code is called “Nowhere”" in words[3]
    assert "no cost code" in words[4]
    assert "no amount" in words[5]
    assert "0" in words[5]
    assert "“abc” is not a number" in words[6]
    assert "on row 2 already" in words[7]


def test_a_header_without_an_amount_column_is_refused_whole(db, project):
    with pytest.raises(CostbridgeError) as caught:
        read_csv(db, project, b"Cost Code,Qty\n01-100,3\n")
    assert "none of them is the amount" in caught.value.message
    assert "Amount" in caught.value.fix


def test_too_large_or_empty_files_are_refused(db, project):
    with pytest.raises(CostbridgeError, match="bytes"):
        read_csv(db, project, b"x" * (MAX_IMPORT_BYTES + 1))
    with pytest.raises(CostbridgeError, match="no rows"):
        read_csv(db, project, b"\xef\xbb\xbf\n\n")


def test_confirming_a_stale_preview_saves_nothing(db, project):
    general = code_id(db, project, "01-100")
    plan = read_csv(db, project, b"01-100,100\n")
    apply_budget(db, project, [BudgetEntry(general, Decimal(50))], source="console", changed_by="b")
    with pytest.raises(CostbridgeError, match="changed since this preview"):
        apply_confirmed(
            db, project, plan.entries, plan.fingerprint, source="import", changed_by="a"
        )
    assert lines(db, project)[general] == (Decimal("50.00"), None)


def test_entries_survive_the_round_trip_and_bad_ones_are_refused(db, project):
    entries = [BudgetEntry(3, Decimal("1.50"), "x"), BudgetEntry(None, Decimal("-2.00"))]
    assert entries_from_json(entries_json(entries)) == entries
    for bad in ({"a": 1}, [[1, 2, 3]], [["1", "2", None]], [[1, "NaNx", None]]):
        with pytest.raises(CostbridgeError):
            entries_from_json(bad)


def test_the_grid_lists_every_cost_code_then_uncoded(db, project):
    concrete = code_id(db, project, "03-300")
    apply_budget(
        db, project, [BudgetEntry(concrete, Decimal(7), "Slab")], source="cli", changed_by="a"
    )
    rows = budget_grid(db, project)
    assert [(r.key, r.label, r.budgeted, r.description) for r in rows] == [
        (str(code_id(db, project, "01-100")), "01-100 General Conditions", Decimal("0.00"), None),
        (str(concrete), "03-300 Concrete", Decimal("7.00"), "Slab"),
        (str(code_id(db, project, "06-200")), "06-200 Finish Carpentry", Decimal("0.00"), None),
        ("uncoded", "Uncoded (no connected cost code)", Decimal("0.00"), None),
    ]
