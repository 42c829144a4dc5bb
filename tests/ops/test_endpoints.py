"""The operator endpoints and `costbridge status`, in process (fast)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from core import metrics
from core.cli import main
from core.db import utcnow
from core.models import Company
from core.models import ConnectionStatus
from core.models import RunState
from core.models import SyncRun
from core.web.webhooks import sign
from costbridge_testing.services import web_app
from tests.ops.conftest import closed_port


def test_every_response_carries_a_request_id_and_keeps_a_well_formed_one(web_client):
    fresh = web_client.get("/healthz")
    assert len(fresh.headers["X-Request-Id"]) == 32
    kept = web_client.get("/healthz", headers={"X-Request-Id": "proxy-id-12345"})
    assert kept.headers["X-Request-Id"] == "proxy-id-12345"
    odd = web_client.get("/healthz", headers={"X-Request-Id": "bad id; injected"})
    assert odd.headers["X-Request-Id"] != "bad id; injected"


def test_readyz_is_ready_when_database_is_at_head_and_redis_answers(web_client, redis_conn):
    resp = web_client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json["failing"] == []


def test_metrics_refuse_other_machines_without_a_token(web_client):
    assert web_client.get("/metrics").status_code == 200
    far = web_client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert far.status_code == 403


def test_metrics_token_is_required_once_configured(runtime):
    runtime.settings = runtime.settings.with_overrides({"metrics_token": "scrape-token-123"})
    with web_app(runtime) as app:
        client = app.test_client()
        assert client.get("/metrics").status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
        assert ok.status_code == 200
        assert b"costbridge_outbox_rows" in ok.data


def _delivery(realm):
    note = {
        "realmId": realm,
        "dataChangeEvent": {
            "entities": [{"name": "Bill", "id": "1", "operation": "Update", "lastUpdated": "x"}]
        },
    }
    return json.dumps({"eventNotifications": [note]}).encode()


def test_webhook_deliveries_are_counted_accepted_duplicate_and_refused(
    web_client, committed_db, redis_conn
):
    committed_db.add(
        Company(name="Ridgeline", realm_id="9130", connection_status=ConnectionStatus.CONNECTED)
    )
    committed_db.commit()
    body = _delivery("9130")
    outcomes = ("accepted", "duplicate", "refused")
    name = "costbridge_webhook_deliveries_total"
    before = {o: metrics.sample(name, {"outcome": o}) for o in outcomes}
    headers = {"intuit-signature": sign("test-verifier-token", body)}
    for _ in range(2):
        assert web_client.post("/webhooks/qbo", data=body, headers=headers).status_code == 200
    assert web_client.post("/webhooks/qbo", data=body).status_code == 401
    for outcome in outcomes:
        assert metrics.sample(name, {"outcome": outcome}) == before[outcome] + 1


def test_status_prints_readiness_and_each_company_with_its_last_sync(
    committed_db, database_url, redis_url, redis_conn, monkeypatch, tmp_path
):
    company = Company(
        name="Ridgeline Builders", realm_id="9341", connection_status=ConnectionStatus.CONNECTED
    )
    idle = Company(name="Cedar Homes")
    committed_db.add_all([company, idle])
    committed_db.flush()
    committed_db.add(
        SyncRun(company_id=company.id, kind="pull", state=RunState.SUCCEEDED, finished_at=utcnow())
    )
    committed_db.commit()
    monkeypatch.setenv("COSTBRIDGE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "migrations  ok" in result.output
    assert "Ridgeline Builders: QuickBooks connected realm 9341; last sync" in result.output
    assert "(pull, succeeded)" in result.output
    assert "Cedar Homes: QuickBooks disconnected; never synced" in result.output


def test_status_exits_1_naming_redis_when_it_is_unreachable(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("COSTBRIDGE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["checks"]["redis"]["ok"] is False
