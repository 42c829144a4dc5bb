"""Every console page that takes a row id answers 404 to one that cannot name a row.

On PostgreSQL and on SQLite (the demo's database), which used to differ: `?id=99999999999999999999`
was 404 on the first and 500 on the second (the driver's OverflowError), and Flask-Admin's
`?id=1,2` was 500 on both (a two-part key for a one-column table).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from admin.auth import SecureModelView
from core.models import Company
from core.runtime import Runtime
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from costbridge_testing.services import web_app
from tests.factories import make_bill
from tests.factories import make_cost_code
from tests.factories import make_project

#: Ids that name no row (past 64 bits, zero, negative, composite, not ASCII digits).
BAD = ["99999999999999999999", "0", "-1", "1,2", "abc", "٣", "１", "1_0", " 1"]


@dataclass(frozen=True)
class Rows:
    company: int
    project: int
    bill: int


@pytest.fixture
def rows(any_runtime: Runtime) -> Rows:
    with any_runtime.sessions() as session:
        project = make_project(session)
        bill = make_bill(session, project)
        session.commit()
        return Rows(project.company_id, project.id, bill.id)


@pytest.fixture
def console(any_runtime: Runtime) -> Iterator[Flask]:
    # Without CSRF, a POST reaches the view with its id instead of stopping at the token.
    with web_app(any_runtime, WTF_CSRF_ENABLED=False) as app:
        yield app


@pytest.fixture
def admin(console: Flask, any_runtime: Runtime) -> FlaskClient:
    sessions = any_runtime.sessions
    return sign_in(console.test_client(), sessions, add_user(sessions, "ids@example.com"))


def _model_views(app: Flask) -> list[SecureModelView]:
    return [v for v in app.extensions["admin"][0]._views if isinstance(v, SecureModelView)]


def _is_404(resp: object, where: object) -> None:
    status = getattr(resp, "status_code", None)
    assert status == 404, (where, status)


def test_flask_admin_details_of_every_model_refuse_a_bad_id(
    console: Flask, admin: FlaskClient, rows: Rows
) -> None:
    views = _model_views(console)
    assert len(views) > 10
    for view in views:
        url = f"{view.url}/details/"
        for bad in [*BAD, ""]:
            _is_404(admin.get(url, query_string={"id": bad}), (url, bad))
        _is_404(admin.get(url, query_string=[("id", "1"), ("id", "2")]), (url, "two ids"))
    # A good id still opens the page; a well-formed id of no row is 404 too (as is a row of a
    # company the user may not see: the two answer the same, admin/scope.py).
    assert (
        admin.get("/admin/company/details/", query_string={"id": rows.company}).status_code == 200
    )
    missing = admin.get("/admin/company/details/", query_string={"id": rows.company + 1000})
    assert missing.status_code == 404


def test_flask_admin_edit_delete_update_and_bulk_delete_refuse_a_bad_id(
    admin: FlaskClient, rows: Rows
) -> None:
    for view in ("company", "project", "costcode", "vendor", "employee", "budgetline"):
        base = f"/admin/{view}"
        for bad in [*BAD, ""]:
            _is_404(admin.get(f"{base}/edit/", query_string={"id": bad}), (view, "edit", bad))
            _is_404(admin.post(f"{base}/edit/?id={bad}", data={}), (view, "edit post", bad))
            _is_404(admin.post(f"{base}/delete/", data={"id": bad}), (view, "delete", bad))
            _is_404(
                admin.post(f"{base}/ajax/update/", data={"list_form_pk": bad, "name": "x"}),
                (view, "ajax", bad),
            )
            _is_404(
                admin.post(f"{base}/action/", data={"action": "delete", "rowid": [bad]}),
                (view, "bulk delete", bad),
            )
    assert admin.get("/admin/company/edit/", query_string={"id": rows.company}).status_code == 200


#: (method, URL with `{bad}` where the id goes, form) of the console's own pages.
PAGES = [
    ("GET", "/admin/project/settings/?id={bad}", {}),
    ("POST", "/admin/project/link/?id={bad}", {}),
    ("POST", "/admin/project/plugins/?id={bad}", {}),
    ("GET", "/admin/companies/company?id={bad}", {}),
    ("GET", "/admin/catalog/?id={bad}", {}),
    ("POST", "/admin/catalog/connect", {"kind": "vendor", "local_id": "{bad}"}),
    ("GET", "/admin/budget/?project_id={bad}", {}),
    ("GET", "/admin/budget/?project_id={project}&run={bad}", {}),
    ("GET", "/admin/budget/actuals?project_id={bad}", {}),
    ("GET", "/admin/budget/actuals?project_id={project}&cost_code={bad}", {}),
    ("GET", "/admin/budget/run?id={bad}", {}),
    ("GET", "/admin/budget/doctor?project_id={bad}", {}),
    ("POST", "/admin/budget/sync?project_id={bad}", {}),
    ("GET", "/admin/files/?project_id={bad}", {}),
    ("GET", "/admin/files/download?id={bad}", {}),
    ("GET", "/admin/bills/?project_id={bad}", {}),
    ("GET", "/admin/bills/new?project_id={bad}", {}),
    ("GET", "/admin/bills/edit?id={bad}", {}),
    ("POST", "/admin/bills/push?id={bad}", {}),
    ("POST", "/admin/bills/delete?id={bad}", {}),
    ("GET", "/admin/invoices/?project_id={bad}", {}),
    ("POST", "/admin/invoices/paid?id={bad}", {}),
    ("POST", "/admin/invoices/delete?id={bad}", {}),
    ("GET", "/admin/time/?project_id={bad}", {}),
    ("POST", "/admin/time/delete?id={bad}", {}),
    ("GET", "/admin/synclog/?run={bad}", {}),
    ("GET", "/admin/synclog/?project_id={bad}", {}),
    ("POST", "/admin/pushes/retry", {"id": "{bad}"}),
    ("POST", "/admin/pushes/cancel", {"id": "{bad}"}),
]
#: Pages where a missing or empty value is no filter rather than a missing row.
OPTIONAL = ("/admin/catalog/?", "&run=", "&cost_code=", "/admin/files/?", "/admin/synclog/")


def test_the_consoles_own_pages_refuse_a_bad_id(admin: FlaskClient, rows: Rows) -> None:
    for method, template, form in PAGES:
        values = BAD if any(o in template for o in OPTIONAL) else [*BAD, ""]
        for bad in values:
            url = template.format(bad=bad, project=rows.project)
            data = {k: v.format(bad=bad) for k, v in form.items()}
            _is_404(admin.open(url, method=method, data=data), (method, url, data))


def test_the_same_pages_open_with_a_good_id(admin: FlaskClient, rows: Rows) -> None:
    for url in (
        f"/admin/companies/company?id={rows.company}",
        f"/admin/bills/?project_id={rows.project}",
        f"/admin/bills/edit?id={rows.bill}",
        f"/admin/budget/actuals?project_id={rows.project}&cost_code=all",
        f"/admin/files/?project_id={rows.project}",
        "/admin/files/?project_id=",
        "/admin/synclog/?run=",
    ):
        assert admin.get(url).status_code == 200, url


def test_a_cost_code_of_another_company_is_no_filter_of_the_actuals(
    any_runtime: Runtime, admin: FlaskClient, rows: Rows
) -> None:
    # It used to answer 200 with the other company's code name as the pop-up's title.
    with any_runtime.sessions() as session:
        other = Company(name="Harbor Point Construction")
        session.add(other)
        session.flush()
        theirs = make_cost_code(session, other, code="99-900", name="Their Secret Scope")
        session.commit()
        code_id = theirs.id
    resp = admin.get(f"/admin/budget/actuals?project_id={rows.project}&cost_code={code_id}")
    assert resp.status_code == 404
    assert b"Their Secret Scope" not in resp.data


@pytest.mark.parametrize("bad", ["99999999999999999999", "٣", "1,2"])
def test_a_settings_cost_code_that_names_no_row_is_a_problem_in_words(
    admin: FlaskClient, rows: Rows, bad: str
) -> None:
    # A form field, not the page's id: the form says what is wrong and the page stays.
    resp = admin.post(
        f"/admin/project/settings/?id={rows.project}", data={"default_billing_cost_code": bad}
    )
    assert resp.status_code == 200
    assert "is not one of the company&#39;s cost codes" in resp.get_data(as_text=True)
