"""`projects set class= location=`, `--class/--location` on bills, and settings the CLI reads."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.cli import main
from core.models import Project
from tests.core.push.conftest import make_books
from tests.core.push.conftest import rid
from tests.core.push.conftest import work
from tests.core.test_cli_push import _project
from tests.core.test_cli_push import ok_json
from tests.core.test_cli_push import refused
from tests.core.test_cli_push import run


@pytest.fixture
def books(qbo_runtime, realm_id, company, committed_db):
    return make_books(qbo_runtime, realm_id, company.id, committed_db)


def test_projects_set_class_and_location_by_name_then_a_bill_overrides_them(
    qbo_runtime,
    committed_db,
    books,
    project_factory,
):
    project = _project(project_factory, books, push_bills=True)
    crew = books.client.create("Class", {"Name": "Framing crew"}, request_id=rid())
    night = books.client.create(
        "Class", {"Name": "Night", "ParentRef": {"value": crew["Id"]}}, request_id=rid()
    )
    north = books.client.create("Department", {"Name": "North yard"}, request_id=rid())
    south = books.client.create("Department", {"Name": "South yard"}, request_id=rid())
    # Nothing is copied yet: the names are found by asking QuickBooks.
    result = run(
        qbo_runtime, "projects", "set", project, "class=Framing crew", "location=north yard"
    )
    assert result.exit_code == 0, result.output
    assert "class=Framing crew, location=north yard" in result.stdout
    committed_db.expire_all()
    saved = committed_db.get(Project, int(project))
    assert (saved.qbo_class_id, saved.qbo_location_id) == (crew["Id"], north["Id"])

    made = ok_json(
        qbo_runtime, "bills", "create", "--project", project, "--vendor", "Hillside Lumber Supply",
        "--date", "2026-03-02", "--line", "Concrete=10.00", "--class", "Framing crew:Night",
        "--location", "South yard",
    )  # fmt: skip
    assert made["location_id"] == south["Id"]
    assert [line["class_id"] for line in made["lines"]] == [night["Id"]]
    work(qbo_runtime)
    [bill] = ok_json(qbo_runtime, "bills", "list", "--project", project)
    pushed = books.client.read("Bill", bill["qbo_id"])
    assert pushed["DepartmentRef"]["value"] == south["Id"]
    assert pushed["Line"][0]["ItemBasedExpenseLineDetail"]["ClassRef"]["value"] == night["Id"]

    result = run(qbo_runtime, "projects", "set", project, "class=", "location=")
    assert result.exit_code == 0, result.output
    committed_db.expire_all()
    saved = committed_db.get(Project, int(project))
    assert (saved.qbo_class_id, saved.qbo_location_id) == (None, None)


def test_unknown_and_ambiguous_class_names_are_refused(
    qbo_runtime,
    committed_db,
    books,
    project_factory,
):
    project = _project(project_factory, books)
    for parent in ("East", "West"):
        made = books.client.create("Class", {"Name": parent}, request_id=rid())
        books.client.create(
            "Class", {"Name": "Roofing", "ParentRef": {"value": made["Id"]}}, request_id=rid()
        )
    line = refused(qbo_runtime, "projects", "set", project, "class=Roofing")
    assert line == (
        "costbridge: Several QuickBooks classes are called “Roofing”: East:Roofing; "
        "West:Roofing. Give the full name (Parent:Child) of the one you mean."
    )
    line = refused(qbo_runtime, "projects", "set", project, "location=Nowhere")
    assert line.startswith("costbridge: QuickBooks has no location called “Nowhere”")


def test_default_billing_code_is_given_by_code_or_name_like_a_bill_line(
    qbo_runtime,
    committed_db,
    books,
    project_factory,
):
    project = _project(project_factory, books)
    result = run(qbo_runtime, "projects", "set", project, "default_billing_cost_code=Concrete")
    assert result.exit_code == 0, result.output
    committed_db.expire_all()
    saved = committed_db.get(Project, int(project))
    assert saved.settings["default_billing_cost_code"] == books.concrete.id
    line = refused(qbo_runtime, "projects", "set", project, "default_billing_cost_code=Concret")
    assert "no single cost code has the code or name “Concret”" in line


def test_profit_code_qbo_cannot_use_is_refused_when_set(
    qbo_runtime,
    committed_db,
    books,
    project_factory,
):
    project = _project(project_factory, books)
    line = refused(qbo_runtime, "projects", "set", project, "profit_code=Consulting")
    assert line == (
        "costbridge: Profit code: cost code Consulting cannot be used in QuickBooks: turn on "
        "“I purchase this product/service” for this item in QuickBooks. Fix the item in "
        "QuickBooks and import cost codes again, or choose another code."
    )
    committed_db.expire_all()
    assert "profit_code" not in (committed_db.get(Project, int(project)).settings or {})


def test_a_negative_line_says_so_and_how_to_write_it(
    qbo_runtime,
    books,
    project_factory,
):
    project = _project(project_factory, books, push_bills=True)
    line = refused(
        qbo_runtime, "bills", "create", "--project", project, "--vendor",
        "Hillside Lumber Supply", "--date", "2026-03-02", "--line", "=-50",
    )  # fmt: skip
    assert "The amount of line “=-50” is negative (-50)" in line
    assert "Write the amount without a sign, like 0310=50.00." in line
    assert "is not a number" not in line


def test_reconcile_help_names_its_exit_codes():
    result = CliRunner().invoke(main, ["reconcile", "--help"])
    assert result.exit_code == 0
    assert "3 (DRIFT_EXIT) when records differ" in " ".join(result.output.split())
