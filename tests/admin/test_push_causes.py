"""The pushes page groups failures by what to fix, and re-sends a group with one button."""

from __future__ import annotations

import re

import pytest

from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Role
from core.push import outbox
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from tests.factories import make_bill
from tests.factories import make_cost_code
from tests.factories import make_project

PAGE = "/admin/pushes/"


def _csrf(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def refused(committed_db):
    """Four bills QBO refused (610) for one inactive item, and one superseded row."""
    project = make_project(committed_db, linked=True, enabled_plugins=None)
    code = make_cost_code(
        committed_db, project.company, code="06-200", name="Finish Carpentry", qbo_item_id="77"
    )
    rows = []
    for n in range(5):
        bill = make_bill(committed_db, project, number=f"FC-{n}")
        row = OutboxEntry(
            company_id=project.company_id,
            project_id=project.id,
            entity="Bill",
            local_kind="bill",
            local_id=bill.id,
            operation="create",
            payload_version=1,
            idempotency_key=outbox.idempotency_key(project.company_id, "bill", bill.id, "c", 1),
            state=OutboxState.FAILED if n < 4 else OutboxState.SUPERSEDED,
            attempts=1,
            error_code="610",
            error_target=f"Item:{code.qbo_item_id}",
            last_error="This record points at something that no longer exists or is inactive "
            "in QuickBooks.",
        )
        committed_db.add(row)
        rows.append(row)
    committed_db.commit()
    return rows


def test_the_pushes_page_names_the_item_and_counts_the_bills_once(web_client, refused):
    page = web_client.get(PAGE).get_data(as_text=True)
    assert "Item 06-200 Finish Carpentry is inactive in QuickBooks</strong>: 4 bills" in page
    assert page.count("Fixed: send these 4 again") == 1
    assert "Make Item 06-200 Finish Carpentry active again in QuickBooks" in page
    superseded = web_client.get(PAGE + "?state=superseded").get_data(as_text=True)
    assert f"<td>{refused[4].id}</td>" in superseded
    assert "Fixed: send these" not in superseded


def test_support_resends_a_group_and_each_row_goes_under_a_new_requestid(
    app, runtime, committed_db, refused
):
    support = sign_in(
        app.test_client(), runtime.sessions, add_user(runtime.sessions, "s@x.io", Role.SUPPORT)
    )
    page = support.get(PAGE).get_data(as_text=True)
    key = re.search(r'name="group" value="([0-9a-f]{10})"', page).group(1)
    token = _csrf(support, PAGE)
    resp = support.post(PAGE + "retry-group", data={"csrf_token": token, "group": key})
    assert resp.status_code == 302
    committed_db.expire_all()
    rows = [committed_db.get(OutboxEntry, r.id) for r in refused]
    assert [r.state for r in rows[:4]] == [OutboxState.UNKNOWN] * 4
    assert all(outbox.request_id(r) == f"{r.idempotency_key}-1" for r in rows[:4])
    assert rows[4].state == OutboxState.SUPERSEDED  # not a failure: never re-sent
    follow = support.get(PAGE).get_data(as_text=True)
    assert "4 change(s) will be sent again" in follow
    assert "Fixed: send these" not in follow
    # The group is gone now: pressing the button again says so in words.
    support.post(PAGE + "retry-group", data={"csrf_token": token, "group": key})
    assert "no group of failed changes" in support.get(PAGE).get_data(as_text=True)


def test_a_viewer_sees_no_button_and_cannot_resend_and_a_post_needs_csrf(
    app, runtime, web_client, committed_db, refused
):
    viewer = sign_in(
        app.test_client(), runtime.sessions, add_user(runtime.sessions, "v@x.io", Role.VIEWER)
    )
    page = viewer.get(PAGE).get_data(as_text=True)
    assert "is inactive in QuickBooks" in page
    assert "Fixed: send these" not in page
    key = re.search(r'id="cause-([0-9a-f]{10})"', page).group(1)
    token = _csrf(viewer, "/admin/")
    resp = viewer.post(PAGE + "retry-group", data={"csrf_token": token, "group": key})
    assert resp.status_code == 403
    assert web_client.post(PAGE + "retry-group", data={"group": key}).status_code == 400
    committed_db.expire_all()
    assert {committed_db.get(OutboxEntry, r.id).state for r in refused[:4]} == {OutboxState.FAILED}
