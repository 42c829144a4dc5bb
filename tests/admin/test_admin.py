"""The admin console: plain CRUD of the models, signed in only, never showing tokens."""

from __future__ import annotations

import re

import pytest
from flask_admin import expose
from sqlalchemy import select

from admin.auth import LocalBaseView
from core import hookimpl
from core.contracts import PluginInfo
from core.models import Company
from core.models import ConnectionStatus
from core.models import CostCode
from core.models import SettingChange
from costbridge_testing.console import add_user
from costbridge_testing.console import remove_user
from costbridge_testing.console import sign_in
from costbridge_testing.services import dispose_app
from costbridge_testing.services import web_app
from tests.factories import make_bill
from tests.factories import make_company
from tests.factories import make_cost_code
from tests.factories import make_project

#: Pages whose table the `seeded` fixture fills, and a value of those rows each must show.
SEEDED_PAGES = [
    ("/admin/company/", b"Seeded Builders"),
    ("/admin/project/", b"Seeded Kitchen Remodel"),
    ("/admin/costcode/", b"09-901"),
    ("/admin/vendor/", b"Seeded Lumber Yard"),
    ("/admin/bill/", b"SEED-4411"),
]
#: Forms: each must offer the field an admin fills first.
FORM_PAGES = [
    ("/admin/company/new/", b'name="name"'),
    ("/admin/project/new/", b'name="name"'),
]
#: Lists nothing in the console writes yet: each must render its table, with no row.
EMPTY_PAGES = [
    "/admin/employee/",
    "/admin/budgetline/",
    "/admin/invoice/",
    "/admin/timeentry/",
    "/admin/attachment/",
    "/admin/actual/",
    "/admin/syncrun/",
    "/admin/outboxentry/",
    "/admin/remotemapping/",
    "/admin/synccursor/",
]


@pytest.fixture
def company_with_tokens(committed_db):
    company = Company(
        name="Ridgeline Builders LLC",
        realm_id="9341452188453921",
        access_token_enc="gAAAA-ciphertext-access",
        refresh_token_enc="gAAAA-ciphertext-refresh",
    )
    committed_db.add(company)
    committed_db.commit()
    return company


@pytest.fixture
def seeded(committed_db):
    company = make_company(committed_db, name="Seeded Builders")
    project = make_project(committed_db, company, name="Seeded Kitchen Remodel")
    make_cost_code(committed_db, company, code="09-901", name="Drywall")
    make_bill(committed_db, project, vendor_name="Seeded Lumber Yard", number="SEED-4411")
    committed_db.commit()
    return project


@pytest.mark.parametrize(("page", "shown"), SEEDED_PAGES)
def test_admin_list_shows_the_seeded_rows(web_client, seeded, page, shown):
    response = web_client.get(page)
    assert response.status_code == 200
    assert shown in response.data


@pytest.mark.parametrize(("page", "field"), FORM_PAGES)
def test_admin_form_offers_its_fields(web_client, committed_db, page, field):
    response = web_client.get(page)
    assert response.status_code == 200
    assert field in response.data


@pytest.mark.parametrize("page", EMPTY_PAGES)
def test_admin_empty_list_renders_its_table(web_client, committed_db, page):
    response = web_client.get(page)
    assert response.status_code == 200
    assert b"<table" in response.data
    assert b"There are no items in the table." in response.data


def test_admin_home_links_every_list(web_client, committed_db):
    body = web_client.get("/admin/").data
    for page, _shown in SEEDED_PAGES:
        assert page.encode() in body


def test_admin_sends_anonymous_requests_to_sign_in(app):
    response = app.test_client().get("/admin/company/")
    assert response.status_code == 302
    assert "/signin?next=/admin/company/" in response.headers["Location"]


def test_company_pages_never_show_token_columns(web_client, company_with_tokens):
    for page in (
        "/admin/company/",
        f"/admin/company/details/?id={company_with_tokens.id}",
        f"/admin/company/edit/?id={company_with_tokens.id}",
    ):
        body = web_client.get(page).data
        assert b"ciphertext" not in body
        assert b"refresh_token" not in body


def test_bills_are_entered_on_the_projects_bills_page_not_the_plain_form(web_client, seeded):
    # A plain model form would write a bill without recording its push (core.push.records).
    assert web_client.get("/admin/bill/new/").status_code in (302, 403, 404)
    page = web_client.get(f"/admin/bills/new?project_id={seeded.id}")
    assert page.status_code == 200
    assert b'name="bill_date"' in page.data


def test_actuals_are_read_only(web_client, committed_db):
    assert web_client.get("/admin/actual/new/").status_code in (302, 403, 404)


def test_project_can_be_created_through_the_console(web_client, committed_db):
    company = Company(name="Ridgeline Builders LLC")
    committed_db.add(company)
    committed_db.commit()
    form = web_client.get("/admin/project/new/").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = web_client.post(
        "/admin/project/new/",
        data={
            "csrf_token": token,
            "company": str(company.id),
            "name": "Café Ñandú – O'Brien Remodel",
        },
    )
    assert response.status_code == 302
    assert web_client.get("/admin/project/").data.count(b"O&#39;Brien") == 1


def test_every_app_gets_its_own_admin(runtime):
    from core.app import create_app

    first = create_app({"runtime": runtime})
    second = create_app({"runtime": runtime})
    assert first.extensions["admin"][0] is not second.extensions["admin"][0]
    dispose_app(first)
    dispose_app(second)


def test_console_post_without_csrf_token_is_refused(web_client, committed_db):
    company = Company(name="Ridgeline Builders LLC")
    committed_db.add(company)
    committed_db.commit()
    response = web_client.post(
        "/admin/project/new/", data={"company": str(company.id), "name": "Forged"}
    )
    assert response.status_code == 400
    assert b"Forged" not in web_client.get("/admin/project/").data


class ReportPlugin:
    """A throwaway plugin adding one admin page."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="zz_reports", label="Reports")

    @hookimpl
    def admin_views(self):
        class Report(LocalBaseView):
            @expose("/")
            def index(self):
                return "retainage report"

        return [Report(name="Retainage", endpoint="retainage")]


class BrokenAdminPlugin:
    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="zz_broken", label="Broken")

    @hookimpl
    def admin_views(self):
        raise RuntimeError("plugin bug")


def test_admin_views_of_plugins_are_mounted_under_plugins_with_prefixed_endpoints(runtime):
    runtime.pm.register(ReportPlugin(), name="zz_reports")
    runtime.pm.register(BrokenAdminPlugin(), name="zz_broken")
    try:
        with web_app(runtime) as web:
            admin = web.extensions["admin"][0]
            view = next(v for v in admin._views if v.endpoint == "zz_reports_retainage")
            assert view.category == "Plugins"
            uid = add_user(runtime.sessions, "plugin-admin@example.com")
            client = sign_in(web.test_client(), runtime.sessions, uid)
            assert client.get(view.url + "/").data == b"retainage report"
            remove_user(runtime.sessions, uid)
    finally:
        runtime.pm.unregister(name="zz_reports")
        runtime.pm.unregister(name="zz_broken")


@pytest.fixture
def linked_project(committed_db):
    from tests.factories import make_cost_code
    from tests.factories import make_project

    project = make_project(committed_db, linked=True)
    code = make_cost_code(committed_db, project.company, code="01-100", name="General Conditions")
    committed_db.commit()
    return project, code


def _token(web_client, url):
    page = web_client.get(url).data.decode()
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_settings_page_is_built_from_every_plugin_including_third_party(web_client, linked_project):
    project, _code = linked_project
    page = web_client.get(f"/admin/project/settings/?id={project.id}").data.decode()
    for label in (
        "Push bills to QuickBooks",
        "Default billing cost code",
        "Vendor credits",
        "Profit code",
        "Purchase order prefix",
    ):
        assert label in page
    assert 'name="push_bill_attachments" checked' in page


def test_settings_page_refuses_push_bills_without_default_code_and_says_what_to_do(
    web_client, committed_db, linked_project
):
    project, _code = linked_project
    url = f"/admin/project/settings/?id={project.id}"
    page = web_client.post(
        url, data={"csrf_token": _token(web_client, url), "push_bills": "on"}
    ).data.decode()
    assert (
        "Push bills to QuickBooks cannot be on while Default billing cost code is not set." in page
    )
    committed_db.expire_all()
    assert not committed_db.get(type(project), project.id).settings.get("push_bills")


def test_settings_page_saves_valid_settings(web_client, committed_db, linked_project):
    project, code = linked_project
    url = f"/admin/project/settings/?id={project.id}"
    data = {
        "csrf_token": _token(web_client, url),
        "push_bills": "on",
        "default_billing_cost_code": str(code.id),
        "sample_po_prefix": "PO-",
    }
    page = web_client.post(url, data=data).data.decode()
    assert "Settings saved." in page
    committed_db.expire_all()
    stored = committed_db.get(type(project), project.id).settings
    assert stored["push_bills"] is True
    assert stored["default_billing_cost_code"] == code.id
    assert stored["push_bill_attachments"] is False
    # The history names who changed it, not just "the console".
    who = {c.changed_by for c in committed_db.scalars(select(SettingChange))}
    assert len(who) == 1
    assert who.pop().startswith("console:admin-")


def test_company_list_links_to_connect_and_shows_reconnect_needed(web_client, committed_db):
    from core.models import ConnectionStatus

    company = Company(
        name="Ridgeline Builders LLC",
        connection_status=ConnectionStatus.RECONNECT_NEEDED,
        connection_problem="QuickBooks no longer accepts the saved sign-in.",
    )
    committed_db.add(company)
    committed_db.commit()
    page = web_client.get("/admin/company/").data.decode()
    assert "reconnect needed" in page
    assert "QuickBooks no longer accepts the saved sign-in." in page
    assert f'href="/admin/companies/company?id={company.id}"' in page
    assert "Connect to QuickBooks" in page


def test_company_connection_columns_cannot_be_edited_in_the_console(web_client, committed_db):
    company = Company(
        name="Ridgeline Builders LLC",
        realm_id="9341452188453921",
        connection_status=ConnectionStatus.CONNECTED,
        qbo_company_name="Ridgeline Builders",
    )
    committed_db.add(company)
    committed_db.commit()
    form = web_client.get(f"/admin/company/edit/?id={company.id}").data.decode()
    for column in ("realm_id", "connection_status", "connection_problem", "qbo_company_name"):
        assert f'name="{column}"' not in form
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = web_client.post(
        f"/admin/company/edit/?id={company.id}",
        data={
            "csrf_token": token,
            "name": "Ridgeline Builders Inc",
            "realm_id": "1111111111",
            "connection_status": "disconnected",
            "connection_problem": "forged",
            "qbo_company_name": "Someone Else",
        },
    )
    assert response.status_code == 302
    committed_db.expire_all()
    row = committed_db.get(Company, company.id)
    assert row.name == "Ridgeline Builders Inc"
    assert row.realm_id == "9341452188453921"
    assert row.connection_status == ConnectionStatus.CONNECTED
    assert row.connection_problem is None
    assert row.qbo_company_name == "Ridgeline Builders"


def test_with_selected_delete_removes_the_ticked_rows_on_postgresql(web_client, committed_db):
    company = make_company(committed_db, name="Bulk Builders")
    keep = make_cost_code(committed_db, company, code="01-100", name="Keep Me")
    gone = [make_cost_code(committed_db, company, code=f"02-{n}", name=f"Gone {n}") for n in (1, 2)]
    committed_db.commit()
    keep_id, gone_ids = keep.id, {c.id for c in gone}
    listing = web_client.get("/admin/costcode/").data.decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', listing).group(1)
    response = web_client.post(
        "/admin/costcode/action/",
        data={"csrf_token": token, "action": "delete", "rowid": [str(i) for i in gone_ids]},
    )
    assert response.status_code == 302
    committed_db.expire_all()
    left = {c.id for c in committed_db.scalars(select(CostCode))}
    assert keep_id in left
    assert not left & gone_ids
    # A ticked id that names no row deletes nothing and answers "not found".
    response = web_client.post(
        "/admin/costcode/action/",
        data={"csrf_token": token, "action": "delete", "rowid": [str(keep_id), "999999"]},
    )
    assert response.status_code == 404
    committed_db.expire_all()
    assert committed_db.get(CostCode, keep_id) is not None
