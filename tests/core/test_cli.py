"""The `costbridge` command."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from core.cli import main
from tests.core.test_project_settings import DESIGN_DEFAULTS


def test_plugins_lists_the_built_ins_with_every_setting_and_default():
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in ("qbo_bills", "qbo_expenses", "qbo_invoices", "qbo_time", "qbo_vendor_credits"):
        assert any(line.startswith(name) for line in lines)
    shown = {
        line.split()[0]: line.split("default:")[1].split()[0]
        for line in lines
        if "default:" in line
    }
    words = {False: "off", True: "on", None: "none"}
    for key, default in DESIGN_DEFAULTS.items():
        assert shown[key] == words[default], key


def test_plugins_json_includes_the_third_party_distribution():
    result = CliRunner().invoke(main, ["plugins", "--json"])
    data = json.loads(result.output)
    names = [p["name"] for p in data["plugins"]]
    assert "sample_purchase_orders" in names
    sample = next(p for p in data["plugins"] if p["name"] == "sample_purchase_orders")
    assert {s["key"]: s["default"] for s in sample["settings"]} == {
        "sample_po_check_prefix": True,
        "sample_po_prefix": "PO-",
    }


def test_installed_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", "plugins"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "qbo_vendor_credits" in out.stdout


def test_malformed_setting_stops_the_command_with_one_line(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "localhost:6379")
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code == 2
    assert (
        result.output.strip() == "costbridge: REDIS_URL is malformed: "
        "expected redis://host:port/db, got 'localhost:6379'."
    )


def test_web_refuses_to_listen_beyond_this_machine():
    result = CliRunner().invoke(main, ["web", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "COSTBRIDGE_ALLOWED_HOSTS" in result.output


def test_worker_burst_runs_the_queued_job_then_exits(monkeypatch, settings, redis_conn, runtime):
    from rq.job import Job
    from rq.serializers import JSONSerializer

    from core.jobs import queues
    from core.jobs import tasks

    monkeypatch.setenv("COSTBRIDGE_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("COSTBRIDGE_INSTANCE", str(settings.instance_path))
    queues.enqueue(
        runtime.redis, queues.MAINTENANCE, tasks.sweep_outbox, job_id="sweep-cli-test", kwargs={}
    )
    result = CliRunner().invoke(main, ["worker", "--burst", "--queue", "maintenance"])
    assert result.exit_code == 0, result.output
    job = Job.fetch("sweep-cli-test", connection=redis_conn, serializer=JSONSerializer)
    assert job.get_status() == "finished", result.output
    assert job.return_value() == {"candidates": 0, "enqueued": 0}
    assert queues.queue(queues.MAINTENANCE, runtime.redis).count == 0


def test_sandbox_command_serves_the_emulator_on_loopback():
    import socket
    import time

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "sandbox", "--port", str(port), "--seed", "empty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                doc = requests.get(
                    f"http://127.0.0.1:{port}/.well-known/openid_sandbox_configuration", timeout=2
                ).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.2)
        assert doc["token_endpoint"].startswith(f"http://127.0.0.1:{port}/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_sandbox_refuses_a_public_interface():
    result = CliRunner().invoke(main, ["sandbox", "--host", "0.0.0.0"])
    assert result.exit_code == 2


def test_keys_rotate_re_encrypts_every_token_under_the_newest_key(
    monkeypatch, settings, committed_db
):
    from core.crypto import TokenVault
    from core.crypto import new_key
    from core.models import Company
    from core.models.hardening import PendingRevocation

    old, new = settings.token_keys[0], new_key()
    before = TokenVault([old])
    committed_db.add_all(
        Company(
            name=f"Company {n}",
            access_token_enc=before.encrypt(f"access-{n}"),
            refresh_token_enc=before.encrypt(f"refresh-{n}"),
        )
        for n in range(3)
    )
    # A disconnect Intuit did not confirm: its refresh token waits to be revoked again.
    committed_db.add(
        PendingRevocation(realm_id="9130350000000077", token_enc=before.encrypt("gone"))
    )
    committed_db.commit()
    monkeypatch.setenv("COSTBRIDGE_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COSTBRIDGE_INSTANCE", str(settings.instance_path))
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", f"{new},{old}")
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted the tokens of 3 companies and 1 waiting to be revoked" in result.output
    committed_db.expire_all()
    only_new = TokenVault([new])
    rows = committed_db.query(Company).order_by(Company.id).all()
    assert [only_new.decrypt(c.refresh_token_enc) for c in rows] == [
        f"refresh-{n}" for n in range(3)
    ]
    waiting = committed_db.query(PendingRevocation).one()
    assert only_new.decrypt(waiting.token_enc) == "gone"
    assert "refresh-" not in result.output


def test_keys_new_prints_a_usable_key():
    from core.crypto import TokenVault

    result = CliRunner().invoke(main, ["keys", "new"])
    key = result.output.strip()
    assert TokenVault([key]).decrypt(TokenVault([key]).encrypt("x")) == "x"


def test_sweep_command_reports_what_it_put_back(monkeypatch, settings, redis_conn):
    monkeypatch.setenv("COSTBRIDGE_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("COSTBRIDGE_INSTANCE", str(settings.instance_path))
    result = CliRunner().invoke(main, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "0 waiting push(es) found, 0 put back on the queue." in result.output


def test_the_command_loads_no_metrics_library_web_app_or_emulator_before_a_command_runs():
    # `costbridge web` and `worker` point prometheus_client at its folder before it is imported
    # (core.serve.prepare_process): importing the command package must not import it first.
    probe = (
        "import sys, core.cli; "
        "print(sorted(m for m in ('prometheus_client', 'flask', 'admin', 'sandbox', 'core.app') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_console_script_names_the_package_main():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["costbridge"] == "core.cli:main"
