"""The testing kit's fixtures, as a plugin author's suite would use them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Company
from core.models import Project
from core.models import SettingChange
from core.project_settings import effective_settings


def test_project_factory_commits_a_linked_project_with_its_settings(project_factory, engine, pm):
    project = project_factory({"exclude_non_billable": True}, customer_id="58")
    with Session(engine) as other:
        seen = other.get(Project, project.id)
        assert seen.qbo_customer_id == "58"
        assert effective_settings(pm, seen)["exclude_non_billable"] is True
        history = other.scalars(select(SettingChange.key)).all()
    assert history == ["exclude_non_billable"]


def test_realm_id_is_a_connected_company_on_the_sandbox(realm_id, company, qbo_runtime):
    with qbo_runtime.sessions() as session:
        row = session.get(Company, company.id)
        assert row.realm_id == realm_id
        assert row.connection_status.value == "connected"


def test_token_manager_hands_out_a_token_the_sandbox_accepts(realm_id, token_manager, qbo_sandbox):
    import requests

    token = token_manager.access_token(realm_id)
    resp = requests.get(
        f"{qbo_sandbox.url}/v3/company/{realm_id}/companyinfo/{realm_id}",
        headers={"Authorization": f"Bearer {token.value}", "Accept": "application/json"},
        timeout=10,
    )
    assert resp.status_code == 200
