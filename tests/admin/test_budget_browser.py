"""A budget entered in a real browser, by hand and by CSV, against actuals pulled from QuickBooks.

The project is a new one (not the demo's): its company is connected through the sandbox's
consent page, its cost codes imported from QuickBooks' Products & Services, its costs pulled with
Sync Expenses. The grid's totals follow what is typed before anything is saved; the history
lists every change with who made it. The `browser` fixture fails the test on any violation of
the console's strict Content-Security-Policy.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func
from sqlalchemy import select

from core.models import Actual
from core.models import BudgetChange
from core.models import Company
from core.models import CostCode
from core.models import Project
from core.models import Role
from costbridge_testing.console import add_user
from tests.admin.test_console_browser import PASSWORD
from tests.admin.test_console_browser import _connect
from tests.admin.test_console_browser import browser  # noqa: F401 - the fixture
from tests.admin.test_console_browser import demo_sandbox  # noqa: F401 - the fixture
from tests.admin.test_console_browser import live  # noqa: F401 - the fixture
from tests.admin.test_console_browser import pytestmark  # noqa: F401 - skipped without Chromium
from tests.admin.test_console_browser import shot
from tests.admin.test_console_browser import sign_in

CUSTOMER = "Maple Street Remodel:Kitchen Addition"


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _new_project(server) -> tuple[int, int]:
    with server.sessions() as s:
        company = Company(name="Harbor View Builders")
        s.add(company)
        s.flush()
        project = Project(company_id=company.id, name="Harbor View Duplex", settings={})
        s.add(project)
        s.commit()
        return company.id, project.id


def _link(server, company_id: int, project_id: int) -> None:
    from core.projects import customer_choices
    from core.projects import link_project
    from core.projects import resolve_customer
    from core.qbo import client_for

    with server.sessions() as s:
        company = s.get(Company, company_id)
        project = s.get(Project, project_id)
        assert company is not None
        assert project is not None
        choices = customer_choices(client_for(server.rt, company.realm_id or ""))
        link_project(s, server.rt.pm, project, resolve_customer(choices, CUSTOMER))
        s.commit()


def _actual_by_code(server, project_id: int) -> dict[int, Decimal]:
    with server.sessions() as s:
        return {
            code_id: total
            for code_id, total in s.execute(
                select(Actual.cost_code_id, func.sum(Actual.amount))
                .where(
                    Actual.project_id == project_id,
                    Actual.excluded_reason.is_(None),
                    Actual.cost_code_id.is_not(None),
                )
                .group_by(Actual.cost_code_id)
            )
        }


def test_budget_entered_by_hand_and_by_csv_shows_variance_and_history(live, browser):  # noqa: F811
    company_id, project_id = _new_project(live)
    add_user(live.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, live.base, "ann@example.com")
    _connect(page, live.base, company_id)
    _link(live, company_id, project_id)
    page.click("#catalog-link")
    page.click("#import-cost_codes")
    assert "Imported Products & Services" in page.inner_text("body")

    # Pull the project's costs from QuickBooks.
    page.goto(f"{live.base}/admin/budget/?project_id={project_id}")
    page.click("#sync-expenses")
    page.wait_for_selector("#sync-progress .progress")
    live.work()
    # (Not wait_for_function: a string predicate is an eval, which the page's policy refuses.)
    page.wait_for_selector("#sync-progress .progress", state="detached", timeout=20000)
    actuals = _actual_by_code(live, project_id)
    spent = [code_id for code_id, total in sorted(actuals.items()) if total]
    assert spent, "the pull brought no coded costs"
    first = spent[0]
    with live.sessions() as s:
        code = s.get(CostCode, first)
        other = s.scalars(
            select(CostCode)
            .where(CostCode.company_id == company_id, CostCode.id != first)
            .order_by(CostCode.id)
        ).first()
        assert code is not None
        assert other is not None
        first_code, other_id, other_name = code.code, other.id, other.name
    actual = actuals[first]
    other_actual = actuals.get(other_id, Decimal("0.00"))
    row = page.locator(f'#budget-lines tr[data-code="{first}"]')

    # By hand: the variance and the totals follow as the amount is typed, before saving.
    total_before = Decimal(page.inner_text("#total-budget").replace(",", ""))
    assert total_before == 0
    page.fill(f"#amount-{first}", "1,000.00")
    assert row.locator(".cb-variance").inner_text() == money(Decimal(1000) - actual)
    assert page.inner_text("#total-budget") == "1,000.00"
    assert "1 line(s) changed, not saved yet." in page.inner_text("#budget-dirty")
    page.fill(f"#amount-{first}", "12,50x")
    assert row.locator(".cb-variance").inner_text() == "?"
    assert "not numbers" in page.inner_text("#budget-dirty")
    page.fill(f"#amount-{first}", "1,000.00")
    row.locator(".cb-budget-description").fill("Entered by hand")
    page.click("#save-budget")
    assert "Budget saved: 1 line(s) added, 0 changed, 0 unchanged." in page.inner_text("body")
    assert page.input_value(f"#amount-{first}") == "1,000.00"
    shot(page, "budget-grid")

    # By CSV, as an estimating tool exports it: preview first, nothing saved until confirmed.
    csv = (
        "\ufeffCost Code,Description,Budget\r\n"
        f'{first_code},From the estimate,"2,500.00"\r\n'
        f'"{other_name}",Allowance,(100.00)\r\n'
        'Grand Total,,"2,400.00"\r\n'
    ).encode()
    page.set_input_files(
        "#budget-file", files=[{"name": "estimate.csv", "mimeType": "text/csv", "buffer": csv}]
    )
    page.click("#preview-import")
    assert page.inner_text("#import-counts") == "1 to add, 1 to change, 0 unchanged"
    changes = page.locator("#import-changes tbody tr")
    assert changes.count() == 2
    assert (
        page.locator(f'#import-changes tr[data-code="{first}"]').get_attribute("data-action")
        == "change"
    )
    assert "Grand Total" in page.inner_text("body")
    with live.sessions() as s:
        assert s.scalar(select(func.count()).select_from(BudgetChange)) == 1
    shot(page, "budget-import-preview")
    page.click("#confirm-import button[type=submit]")
    assert "Budget imported: 1 line(s) added, 1 changed, 0 unchanged" in page.inner_text("body")

    # The variance against the pulled actuals, on the page.
    assert row.locator(".cb-variance").inner_text() == money(Decimal(2500) - actual)
    other_row = page.locator(f'#budget-lines tr[data-code="{other_id}"]')
    assert other_row.locator(".cb-variance").inner_text() == money(Decimal(-100) - other_actual)
    assert page.input_value(f"#amount-{first}") == "2,500.00"
    assert page.inner_text("#total-budget") == "2,400.00"
    total_actual = Decimal(page.inner_text("#total-actual").replace(",", ""))
    assert page.inner_text("#total-variance") == money(Decimal(2400) - total_actual)
    shot(page, "budget-after-import")

    # Every change in the history, with who made it, how, and from what to what.
    page.click("#history-link")
    rows = page.locator("#history tbody tr").all_inner_texts()
    budget_rows = [r for r in rows if "Budget " in r]
    assert len(budget_rows) == 3
    assert all("ann@example.com" in r for r in budget_rows)
    assert any(
        f"Budget {first_code}" in r and "console" in r and "1,000.00 (Entered by hand)" in r
        for r in budget_rows
    )
    assert any(
        f"Budget {first_code}" in r
        and "CSV import" in r
        and "1,000.00 (Entered by hand)" in r
        and "2,500.00 (From the estimate)" in r
        for r in budget_rows
    )
    assert any("CSV import" in r and "-100.00 (Allowance)" in r for r in budget_rows)
    shot(page, "budget-history")
