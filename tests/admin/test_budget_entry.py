"""The budget page: the grid's Save, the CSV import's preview and confirm, the History page."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import BudgetChange
from core.models import BudgetLine
from core.models import Role
from core.models import SettingChange
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from tests.factories import make_cost_code
from tests.factories import make_project


def _csrf(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def project(committed_db):
    row = make_project(committed_db, name="Harbor View Duplex")
    make_cost_code(committed_db, row.company, code="01-100", name="General Conditions")
    make_cost_code(committed_db, row.company, code="03-300", name="Concrete")
    committed_db.commit()
    return row


@pytest.fixture
def codes(committed_db, project):
    from core.models import CostCode

    return {
        c.code: c.id
        for c in committed_db.scalars(
            select(CostCode).where(CostCode.company_id == project.company_id)
        )
    }


def lines(session, project):
    session.expire_all()
    return {
        line.cost_code_id: (line.budget_amount, line.description)
        for line in session.scalars(select(BudgetLine).where(BudgetLine.project_id == project.id))
    }


def grid_form(client, project) -> dict[str, str]:
    """Every field of the grid form as the page gives it (what a browser would post)."""
    page = client.get(f"/admin/budget/?project_id={project.id}").get_data(as_text=True)
    form = page[
        page.index('id="budget-grid"') : page.index("</form>", page.index('id="budget-grid"'))
    ]
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))


def test_the_grid_saves_what_was_typed_with_who_in_the_history(
    web_client, committed_db, project, codes
):
    url = f"/admin/budget/?project_id={project.id}"
    page = web_client.get(url).get_data(as_text=True)
    assert f'name="amount-{codes["01-100"]}"' in page
    assert 'name="amount-uncoded"' in page
    assert "budget_grid.js" in page
    data = grid_form(web_client, project)
    data[f"amount-{codes['01-100']}"] = "$12,500"
    data[f"description-{codes['01-100']}"] = "Site office"
    data[f"amount-{codes['03-300']}"] = "(250.00)"
    response = web_client.post(f"/admin/budget/save?project_id={project.id}", data=data)
    assert response.status_code == 302
    shown = web_client.get(url).get_data(as_text=True)
    assert "Budget saved: 2 line(s) added, 0 changed, 0 unchanged." in shown
    assert lines(committed_db, project) == {
        codes["01-100"]: (Decimal("12500.00"), "Site office"),
        codes["03-300"]: (Decimal("-250.00"), None),
    }
    assert 'id="total-budget">12,250.00<' in shown
    change = committed_db.scalars(select(BudgetChange).where(BudgetChange.code == "01-100")).one()
    assert change.source == "console"
    assert change.changed_by.startswith("console:admin-")


def test_rows_not_touched_on_the_page_keep_a_change_saved_meanwhile(
    web_client, committed_db, project, codes
):
    stale = grid_form(web_client, project)  # the page as loaded
    fresh = grid_form(web_client, project)
    fresh[f"amount-{codes['03-300']}"] = "900"
    web_client.post(f"/admin/budget/save?project_id={project.id}", data=fresh)
    stale[f"amount-{codes['01-100']}"] = "100"
    web_client.post(f"/admin/budget/save?project_id={project.id}", data=stale)
    assert lines(committed_db, project) == {
        codes["03-300"]: (Decimal("900.00"), None),
        codes["01-100"]: (Decimal("100.00"), None),
    }


def test_a_wrong_amount_saves_nothing_and_keeps_what_was_typed(
    web_client, committed_db, project, codes
):
    data = grid_form(web_client, project)
    data[f"amount-{codes['01-100']}"] = "12,50x"
    data[f"amount-{codes['03-300']}"] = "400"
    response = web_client.post(f"/admin/budget/save?project_id={project.id}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing was saved" in page
    assert 'value="12,50x"' in page
    assert 'value="400"' in page
    assert "“12,50x” is not a number" in page
    assert lines(committed_db, project) == {}


def test_a_viewer_sees_the_budget_but_cannot_change_it(app, committed_db, project, codes):
    from core.db import session_factory

    sessions = session_factory(committed_db.get_bind())
    client = sign_in(
        app.test_client(), sessions, add_user(sessions, "val@example.com", Role.VIEWER)
    )
    url = f"/admin/budget/?project_id={project.id}"
    page = client.get(url).get_data(as_text=True)
    assert "budget-grid" not in page
    assert "budget-import" not in page
    token = _csrf(client, url)
    response = client.post(
        f"/admin/budget/save?project_id={project.id}",
        data={
            "csrf_token": token,
            f"amount-{codes['01-100']}": "5",
            f"was-amount-{codes['01-100']}": "0.00",
        },
    )
    assert response.status_code == 403
    assert lines(committed_db, project) == {}


ESTIMATE = (
    b"\xef\xbb\xbfCost Code,Description,Budget\r\n"
    b'01-100,Site office,"12,500.00"\r\n'
    b"Concrete,Slab,(1250.50)\r\n"
    b'Grand Total,,"11,249.50"\r\n'
)


def upload(client, project, data: bytes, name: str = "estimate.csv"):
    url = f"/admin/budget/?project_id={project.id}"
    return client.post(
        f"/admin/budget/import?project_id={project.id}",
        data={"csrf_token": _csrf(client, url), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_import_previews_then_saves_only_when_confirmed(web_client, committed_db, project, codes):
    web_client.post(
        f"/admin/budget/save?project_id={project.id}",
        data={**grid_form(web_client, project), "amount-uncoded": "75"},
    )
    preview = upload(web_client, project, ESTIMATE).get_data(as_text=True)
    assert 'id="import-counts">2 to add, 0 to change, 0 unchanged<' in preview
    assert "they are kept as they are (Uncoded)" in preview
    assert "Row 4 (“Grand Total”) is a total row: left out." in preview
    assert f'data-code="{codes["03-300"]}" data-action="add"' in preview
    assert lines(committed_db, project) == {None: (Decimal("75.00"), None)}
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
    confirm = web_client.post(
        f"/admin/budget/import/confirm?project_id={project.id}",
        data={
            "csrf_token": _csrf(web_client, f"/admin/budget/?project_id={project.id}"),
            "token": token,
        },
    )
    assert confirm.status_code == 302
    page = web_client.get(f"/admin/budget/?project_id={project.id}").get_data(as_text=True)
    assert (
        "Budget imported: 2 line(s) added, 0 changed, 0 unchanged; 1 line(s) not in the file kept"
        in page
    )
    assert lines(committed_db, project) == {
        None: (Decimal("75.00"), None),
        codes["01-100"]: (Decimal("12500.00"), "Site office"),
        codes["03-300"]: (Decimal("-1250.50"), "Slab"),
    }
    # The same confirmation again changes nothing: the budget moved on since that preview.
    again = web_client.post(
        f"/admin/budget/import/confirm?project_id={project.id}",
        data={
            "csrf_token": _csrf(web_client, f"/admin/budget/?project_id={project.id}"),
            "token": token,
        },
        follow_redirects=True,
    )
    assert "The budget changed since this preview was made" in again.get_data(as_text=True)
    assert (
        len(committed_db.scalars(select(BudgetChange).where(BudgetChange.source == "import")).all())
        == 2
    )


def test_an_altered_confirmation_is_refused(web_client, committed_db, project):
    preview = upload(web_client, project, ESTIMATE).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = web_client.post(
        f"/admin/budget/import/confirm?project_id={project.id}",
        data={
            "csrf_token": _csrf(web_client, f"/admin/budget/?project_id={project.id}"),
            "token": forged,
        },
        follow_redirects=True,
    )
    assert "was altered, so nothing was saved" in response.get_data(as_text=True)
    other = make_project(committed_db, project.company, name="Other Job")
    committed_db.commit()
    response = web_client.post(
        f"/admin/budget/import/confirm?project_id={other.id}",
        data={
            "csrf_token": _csrf(web_client, f"/admin/budget/?project_id={project.id}"),
            "token": token,
        },
    )
    assert response.status_code == 400
    assert lines(committed_db, project) == {}
    assert lines(committed_db, other) == {}


def test_an_import_with_wrong_rows_lists_them_and_offers_no_confirm(
    web_client, committed_db, project
):
    data = b"Code,Amount\n01-100,12.345\nNowhere,5\n03-300,10\n"
    page = upload(web_client, project, data).get_data(as_text=True)
    assert "2 row(s) of the file are wrong" in page
    assert '<tr data-row="2"><td>2</td><td>The amount on row 2 “12.345”' in page
    assert '<tr data-row="3"><td>3</td><td>Row 3: No cost code is called “Nowhere”.' in page
    assert 'id="confirm-import"' not in page
    assert lines(committed_db, project) == {}


def test_a_missing_file_is_refused_in_words(web_client, committed_db, project):
    # (The size limit is core.budget_import's, tested in tests/core/test_budgets.py: a body this
    # large is refused by the app's request limits before the view reads it.)
    none = web_client.post(
        f"/admin/budget/import?project_id={project.id}",
        data={"csrf_token": _csrf(web_client, f"/admin/budget/?project_id={project.id}")},
        follow_redirects=True,
    )
    assert "Choose a CSV file to import." in none.get_data(as_text=True)


def test_history_shows_budget_and_setting_changes(web_client, committed_db, project, codes):
    data = grid_form(web_client, project)
    data[f"amount-{codes['01-100']}"] = "500"
    web_client.post(f"/admin/budget/save?project_id={project.id}", data=data)
    committed_db.add(
        SettingChange(
            project_id=project.id,
            key="vendor_credits",
            old_value=False,
            new_value=True,
            changed_by="console",
        )
    )
    committed_db.commit()
    page = web_client.get(f"/admin/budget/history?project_id={project.id}").get_data(as_text=True)
    rows = re.findall(r'<tr data-kind="(\w+)">(.*?)</tr>', page, re.S)
    words = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip() for _k, body in rows]
    assert [k for k, _ in rows] == ["setting", "budget"]
    assert words[0].endswith("Setting vendor_credits off on")
    assert "console Budget 01-100 — 500.00" in words[1]
    assert "console:admin-" in words[1]


@pytest.mark.parametrize("page", ["", "history"])
def test_budget_pages_have_no_inline_script_or_style(web_client, committed_db, project, page):
    html = web_client.get(f"/admin/budget/{page}?project_id={project.id}").get_data(as_text=True)
    body = html[html.index("<body") :]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)
    assert not re.search(r"\sstyle=", body[body.index("<h2>") : body.index("</table>")])
    assert not re.search(r"\son[a-z]+=", body)


def test_import_preview_has_no_inline_script_or_style(web_client, committed_db, project):
    html = upload(web_client, project, ESTIMATE).get_data(as_text=True)
    main = html[html.index("<h2>") : html.index("</form>", html.index("confirm-import"))]
    assert "<script" not in main
    assert not re.search(r"\sstyle=|\son[a-z]+=", main)
