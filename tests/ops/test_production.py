"""Production mode end to end: gunicorn, a real worker, health, metrics, JSON logs, the README."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import uuid
from decimal import Decimal

import requests
from sqlalchemy import select

from core.crypto import TokenVault
from core.models import Company
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import RunState
from core.models import SyncRun
from core.push import records
from core.push.records import LineInput
from core.web.webhooks import sign
from costbridge_testing.services import TEST_TOKEN_KEY
from tests.core.push.conftest import make_books
from tests.ops.conftest import CLIENT_SECRET
from tests.ops.conftest import COSTBRIDGE
from tests.ops.conftest import REPO
from tests.ops.conftest import SECRET_KEY
from tests.ops.conftest import VERIFIER
from tests.ops.conftest import closed_port
from tests.ops.conftest import free_port
from tests.ops.conftest import metric
from tests.ops.conftest import wait_http
from tests.ops.conftest import wait_until


def readme_steps():
    """The command lines of the README's production steps, in order."""
    text = (REPO / "README.md").read_text()
    block = text.split("<!-- production-steps -->")[1].split("<!-- /production-steps -->")[0]
    return [
        line.split("#")[0].strip()
        for line in block.splitlines()
        if line.strip() and not line.startswith("```")
    ]


def sandbox_env(production_env, qbo_sandbox, **changes):
    return production_env(
        QBO_API_BASE=qbo_sandbox.url,
        QBO_DISCOVERY_URL=f"{qbo_sandbox.url}/.well-known/openid_sandbox_configuration",
        **changes,
    )


def waiting_bill_push(db, runtime, realm_id, company_id):
    """A project, its QuickBooks vendor, item and customer, and one bill waiting to be sent."""
    books = make_books(runtime, realm_id, company_id, db)
    project = Project(company_id=company_id, name="Maple Street Remodel")
    project.qbo_customer_id = books.customer_id
    project.settings = {"push_bills": True, "default_billing_cost_code": books.framing.id}
    db.add(project)
    db.flush()
    _bill, entries = records.create_bill(
        db,
        runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[LineInput(Decimal("410.00"), books.concrete.id)],
    )
    db.commit()
    return entries[0].id


def post_webhook(base, realm_id, request_id):
    body = json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": realm_id,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Bill",
                                "id": "145",
                                "operation": "Update",
                                "lastUpdated": "2025-06-30T23:30:00.000Z",
                            }
                        ]
                    },
                }
            ]
        }
    ).encode()
    return requests.post(
        f"{base}/webhooks/qbo",
        data=body,
        headers={
            "intuit-signature": sign(VERIFIER, body),
            "Content-Type": "application/json",
            "X-Request-Id": request_id,
        },
        timeout=10,
    )


def test_readme_production_steps_serve_work_and_sync(
    production_env, processes, qbo_sandbox, qbo_runtime, realm_id, company, committed_db
):
    env = sandbox_env(production_env, qbo_sandbox)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = {}
    outputs = []
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    for line in readme_steps():
        line = line.replace("8000", str(port))
        background = line.endswith("&")
        args = shlex.split(line.rstrip("&"))
        if args[0] == "curl":
            resp = wait_http(args[-1], proc=procs["web"])
            assert resp.status_code == 200, resp.text
            assert resp.json()["status"] == "ready"
            # Between the health check and the sync: QuickBooks is connected (the `realm_id`
            # fixture did it through the sandbox's OAuth), a change waits to be sent, and Intuit
            # reports a change in QuickBooks.
            outbox_id = waiting_bill_push(committed_db, qbo_runtime, realm_id, company.id)
            assert post_webhook(base, realm_id, request_id).status_code == 200
            continue
        assert args[0] == "costbridge"
        if background:
            proc = processes(args[1:], env, args[1])
            procs[args[1]] = proc
            if args[1] == "web":
                assert wait_http(f"{base}/healthz", proc=proc).status_code == 200
            else:
                proc.wait_for_line("Listening on")
            continue
        done = subprocess.run(
            [COSTBRIDGE, *args[1:]], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
        )
        outputs.append(done.stdout + done.stderr)
        assert done.returncode == 0, done.stdout + done.stderr
        if args[1] == "sweep":
            wait_until(
                lambda: _state(committed_db, outbox_id) == OutboxState.DONE,  # noqa: B023
                what="the waiting change sent",
            )
            wait_until(lambda: _webhook_run(committed_db), what="the webhook job's run")

    status_out = outputs[-1]
    assert "Ridgeline Builders: QuickBooks connected" in status_out
    assert "last sync" in status_out
    assert "redis       ok" in status_out

    committed_db.expire_all()
    entry = committed_db.get(OutboxEntry, outbox_id)
    assert records.qbo_id_of(committed_db, entry.local_kind, entry.local_id)  # the sandbox's Bill

    scraped = requests.get(f"{base}/metrics", timeout=10)
    assert scraped.status_code == 200
    text = scraped.text
    assert metric(text, "costbridge_qbo_requests_total", status_class="2xx") >= 1
    assert metric(text, "costbridge_sync_runs_finished_total", kind="push", state="succeeded") == 1
    assert (
        metric(text, "costbridge_sync_runs_finished_total", kind="webhook", state="succeeded") == 1
    )
    assert metric(text, "costbridge_webhook_deliveries_total", outcome="accepted") == 1
    assert metric(text, "costbridge_outbox_rows", state="done") == 1
    assert metric(text, "costbridge_sync_runs", kind="push", state="succeeded") == 1
    assert metric(text, "costbridge_sync_runs", kind="pull", state="succeeded") >= 1
    assert 'costbridge_queue_depth{queue="costbridge-push"} 0.0' in text
    assert "costbridge_http_request_duration_seconds_bucket" in text

    web_lines = procs["web"].json_lines()
    assert any(
        e.get("request_id") == request_id and "/webhooks/qbo" in e["message"] for e in web_lines
    ), procs["web"].text()[-2000:]
    worker_lines = procs["worker"].json_lines()
    job_lines = [e for e in worker_lines if e.get("request_id") == request_id]
    assert job_lines, procs["worker"].text()[-3000:]
    # The webhook job (and the pull it queues) name the request that started them.
    kinds = {e["job_id"].split("-")[0] for e in job_lines}
    assert "webhook" in kinds
    assert kinds <= {"webhook", "pull"}, job_lines
    assert {"timestamp", "level", "logger", "message"} <= set(job_lines[0])
    assert any(e.get("job_id", "").startswith("push-") for e in worker_lines)

    with qbo_runtime.sessions() as session:
        row = session.get(Company, company.id)
        vault = TokenVault(qbo_runtime.settings.token_keys)
        tokens = [vault.decrypt(row.access_token_enc), vault.decrypt(row.refresh_token_enc)]
    logs = "\n".join([procs["web"].text(), procs["worker"].text(), *outputs])
    for secret in [*tokens, CLIENT_SECRET, VERIFIER, SECRET_KEY, TEST_TOKEN_KEY]:
        assert secret not in logs


def _state(db, outbox_id):
    db.expire_all()
    return db.get(OutboxEntry, outbox_id).state


def _webhook_run(db):
    db.expire_all()
    return db.scalars(
        select(SyncRun).where(SyncRun.kind == "webhook", SyncRun.state == RunState.SUCCEEDED)
    ).first()


def test_readyz_names_the_database_when_it_is_unreachable(production_env, processes, tmp_path):
    env = production_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{closed_port()}/test")
    port = free_port()
    web = processes(["web", "--port", str(port)], env, "web")
    assert wait_http(f"http://127.0.0.1:{port}/healthz", proc=web).status_code == 200
    resp = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    assert resp.status_code == 503
    assert resp.json()["failing"] == ["database", "migrations"]
    assert "postgres@" not in resp.text


def test_readyz_names_redis_when_it_is_unreachable(production_env, processes):
    env = production_env(REDIS_URL=f"redis://:hunter2-secret@127.0.0.1:{closed_port()}/0")
    port = free_port()
    web = processes(["web", "--port", str(port)], env, "web")
    resp = wait_http(f"http://127.0.0.1:{port}/readyz", proc=web)
    assert resp.status_code == 503
    assert resp.json()["failing"] == ["redis"]
    assert "hunter2" not in resp.text


def test_production_web_is_served_by_gunicorn_with_configured_workers(production_env, processes):
    env = production_env(COSTBRIDGE_WEB_WORKERS=3, COSTBRIDGE_WEB_THREADS=2)
    port = free_port()
    web = processes(["web", "--port", str(port)], env, "web")
    resp = wait_http(f"http://127.0.0.1:{port}/healthz", proc=web)
    assert resp.json() == {"status": "ok"}
    assert resp.headers["X-Request-Id"]
    web.wait_for_line("Booting worker")
    wait_until(lambda: web.text().count("Booting worker") == 3, what="three gunicorn workers")
    assert "development server" not in web.text()
    booted = [e for e in web.json_lines() if e["logger"] == "gunicorn.error"]
    assert booted
