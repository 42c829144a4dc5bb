"""Crash recovery in seconds: a worker SIGKILLed mid-push has its row back and done, once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from decimal import Decimal
from pathlib import Path

from core.models import OutboxEntry
from core.models import OutboxState
from core.push import records
from core.push.records import LineInput
from costbridge_testing.sandbox import CLIENT_ID
from costbridge_testing.sandbox import CLIENT_SECRET
from costbridge_testing.sandbox import REDIRECT_URI
from costbridge_testing.services import TEST_TOKEN_KEY
from tests.processes import alive
from tests.processes import kill_tree
from tests.processes import snapshot
from tests.processes import work_horses

REPO = Path(__file__).resolve().parents[2]
COSTBRIDGE = str(REPO / ".venv" / "bin" / "costbridge")


def _worker(env, log):
    return subprocess.Popen(  # noqa: S603 - our own command
        [COSTBRIDGE, "worker", "--sweep-every", "2"],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _state(db, entry_id):
    db.expire_all()
    return db.get(OutboxEntry, entry_id).state


def _wait(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_worker_sigkilled_mid_push_has_its_row_back_and_done_within_60_seconds_once(
    committed_db, qbo_runtime, books, project_factory, sandbox_control, qbo_sandbox, tmp_path
):
    project = project_factory(
        {"push_bills": True, "default_billing_cost_code": books.framing.id},
        customer_id=books.customer_id,
    )
    bill, entries = records.create_bill(
        committed_db,
        qbo_runtime.pm,
        project,
        vendor=books.vendor,
        bill_date=dt.date(2026, 3, 2),
        lines=[LineInput(Decimal("410.00"), books.concrete.id)],
    )
    committed_db.commit()
    # QBO commits the bill, then takes 30 s to answer: the worker is killed mid-push.
    sandbox_control.faults(latency_ms=30_000, count=1, phase="after", paths=["bill"])
    settings = qbo_runtime.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("COSTBRIDGE_", "QBO_"))},
        "COSTBRIDGE_ENV": "test",
        "COSTBRIDGE_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEY": "test-secret-key",
        "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY,
        "QBO_API_BASE": qbo_sandbox.url,
        "QBO_DISCOVERY_URL": f"{qbo_sandbox.url}/.well-known/openid_sandbox_configuration",
        "QBO_CLIENT_ID": CLIENT_ID,
        "QBO_CLIENT_SECRET": CLIENT_SECRET,
        "QBO_REDIRECT_URI": REDIRECT_URI,
    }
    with (tmp_path / "worker.log").open("ab") as log:
        first = _worker(env, log)
        try:
            assert _wait(lambda: _state(committed_db, entries[0].id) == OutboxState.IN_FLIGHT, 30)
            time.sleep(1)  # the bill is in QBO now; its answer is still on the way
            tree = snapshot(first.pid)
            # RQ's work horse sends the push from a process group of its own (`setpgrp`): it
            # must die too, or it would finish the push itself and nothing would be recovered.
            horses = work_horses(tree, first.pid)
            assert horses, "no work horse was sending the push"
            kill_tree(tree)  # the worker, its scheduler and the work horse that is sending
            first.wait()
            assert _wait(lambda: not any(alive(pid) for pid in horses), 5)
            killed_at = time.monotonic()
            assert _state(committed_db, entries[0].id) == OutboxState.IN_FLIGHT
            second = _worker(env, log)
            try:
                assert _wait(lambda: _state(committed_db, entries[0].id) == OutboxState.DONE, 60)
                recovered = time.monotonic() - killed_at
            finally:
                kill_tree(snapshot(second.pid) if second.poll() is None else {})
                second.wait()
        finally:
            if first.poll() is None:
                kill_tree(snapshot(first.pid))
    assert recovered < 60
    bills = books.client.query("SELECT * FROM Bill").get("Bill", [])
    assert [b["Id"] for b in bills] == [records.qbo_id_of(committed_db, "bill", bill.id)]
