"""The console's API tokens page: make one (shown once), list, revoke; admins revoke anyone's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.api_tokens import create_token
from core.models import ApiToken
from core.models import User
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in

PAGE = "/admin/api-tokens/"


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.fixture
def viewer(app, runtime, committed_db):
    user_id = add_user(runtime.sessions, "viewer@example.com", "viewer")
    return user_id, sign_in(app.test_client(), runtime.sessions, user_id)


def make(client, name: str):
    token = csrf(client.get(PAGE).get_data(as_text=True))
    return client.post(PAGE + "create", data={"csrf_token": token, "name": name})


def test_a_viewer_makes_a_token_that_is_shown_once_and_works(viewer, committed_db) -> None:
    _, client = viewer
    made = make(client, "Power BI")
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(cbt_[A-Za-z0-9_-]{43})"', made.get_data(as_text=True)).group(1)
    again = client.get(PAGE).get_data(as_text=True)
    assert secret not in again  # never shown again
    assert secret[:12] in again
    assert "Power BI" in again
    api = client.application.test_client()
    resp = api.get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 200


def test_a_user_sees_and_revokes_only_their_own(viewer, runtime, committed_db) -> None:
    user_id, client = viewer
    other_id = add_user(runtime.sessions, "other@example.com", "support")
    with runtime.sessions() as session:
        mine = create_token(session, session.get(User, user_id), "Mine").token.id
        theirs = create_token(session, session.get(User, other_id), "Theirs").token.id
        session.commit()
    page = client.get(PAGE).get_data(as_text=True)
    assert "Mine" in page
    assert "Theirs" not in page
    token = csrf(page)
    refused = client.post(PAGE + "revoke", data={"csrf_token": token, "id": theirs})
    assert refused.status_code == 302
    done = client.post(PAGE + "revoke", data={"csrf_token": token, "id": mine})
    assert done.status_code == 302
    committed_db.expire_all()
    assert committed_db.get(ApiToken, theirs).revoked_at is None
    revoked = committed_db.get(ApiToken, mine)
    assert revoked.revoked_at is not None
    assert revoked.revoked_by == "viewer@example.com"


def test_an_admin_sees_and_revokes_anyones(web_client, runtime, committed_db) -> None:
    other_id = add_user(runtime.sessions, "other@example.com", "viewer")
    with runtime.sessions() as session:
        theirs = create_token(session, session.get(User, other_id), "Theirs").token.id
        session.commit()
    page = web_client.get(PAGE).get_data(as_text=True)
    assert "Theirs" in page
    assert "other@example.com" in page
    web_client.post(PAGE + "revoke", data={"csrf_token": csrf(page), "id": theirs})
    committed_db.expire_all()
    assert committed_db.get(ApiToken, theirs).revoked_at is not None


def test_making_a_token_needs_the_csrf_token(viewer, committed_db) -> None:
    _, client = viewer
    assert client.post(PAGE + "create", data={"name": "x"}).status_code == 400
    assert committed_db.scalars(select(ApiToken)).all() == []


def test_the_page_needs_sign_in(app, committed_db) -> None:
    resp = app.test_client().get(PAGE)
    assert resp.status_code == 302
    assert "/signin" in resp.headers["Location"]
