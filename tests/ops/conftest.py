"""Real `costbridge` processes for the ops tests: production env, free ports, log capture."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from costbridge_testing.services import TEST_TOKEN_KEY
from tests.ops import push_plugin
from tests.processes import kill_tree
from tests.processes import snapshot

REPO = Path(__file__).resolve().parents[2]
COSTBRIDGE = str(Path(sys.executable).parent / "costbridge")
CLIENT_SECRET = "costbridge-dev-secret"
VERIFIER = "ops-verifier-token-0123456789"
SECRET_KEY = "ops-secret-key-0123456789abcdef"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    return free_port()


def entry_point_dir(tmp_path):
    """A folder holding a `*.dist-info` that registers `tests.ops.push_plugin` as a plugin."""
    root = tmp_path / "plugins-path"
    info = root / "ops_push_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ops-push-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[costbridge.plugins]\n{push_plugin.NAME} = tests.ops.push_plugin\n"
    )
    return root


@pytest.fixture
def production_env(database_url, redis_url, tmp_path):
    """Environment of a production deployment on the test database and Redis."""

    def build(**changes):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("COSTBRIDGE_", "QBO_", "PROMETHEUS_", "METRICS_"))
        }
        env.update(
            {
                "COSTBRIDGE_ENV": "production",
                "COSTBRIDGE_INSTANCE": str(tmp_path / "instance"),
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": SECRET_KEY,
                "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY,
                "QBO_CLIENT_ID": "costbridge-dev",
                "QBO_CLIENT_SECRET": CLIENT_SECRET,
                "QBO_WEBHOOK_VERIFIER": VERIFIER,
                # Production refuses to start without them (http only to this machine).
                "QBO_API_BASE": "http://127.0.0.1:8765",
                "QBO_REDIRECT_URI": "http://127.0.0.1:5000/qbo/callback",
                "COSTBRIDGE_WEB_WORKERS": "2",
                "COSTBRIDGE_WEB_THREADS": "2",
                "PYTHONPATH": os.pathsep.join([str(entry_point_dir(tmp_path)), str(REPO)]),
            }
        )
        env.update({k: str(v) for k, v in changes.items()})
        return env

    return build


class Proc:
    """A `costbridge` subprocess whose stderr goes to a file the test can read."""

    def __init__(self, args, env, log_path):
        self.log_path = Path(log_path)
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            [COSTBRIDGE, *args],
            env=env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: `stop` leaves no child behind
        )
        self._tree = snapshot(self.popen.pid)

    @property
    def pid(self):
        return self.popen.pid

    def text(self):
        return self.log_path.read_text(errors="replace")

    def json_lines(self):
        lines = []
        for raw in self.text().splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
        return lines

    def wait_for_line(self, fragment, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if fragment in self.text():
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{fragment!r} never logged:\n{self.text()[-3000:]}")

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        # Taken while it runs: once it ends, what it started is no longer found under it.
        tree = {**self._tree, **(snapshot(self.popen.pid) if self.popen.poll() is None else {})}
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        # Whatever it started and left running (a pool's workers, their schedulers, a work
        # horse in its own process group) would take later tests' jobs from the same Redis.
        kill_tree(tree)
        self._log.close()
        return self.popen.returncode


@pytest.fixture
def processes(tmp_path):
    """Start `costbridge` subprocesses; every one still running is stopped after the test."""
    started = []

    def start(args, env, name):
        proc = Proc(args, env, tmp_path / f"{name}.log")
        started.append(proc)
        return proc

    yield start
    for proc in reversed(started):
        proc.stop()


def wait_http(url, *, timeout=30.0, proc=None):
    """GET `url` until it answers (any status); the answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=15)
        except (requests.ConnectionError, requests.Timeout):
            if proc is not None and proc.popen.poll() is not None:
                raise AssertionError(f"server exited:\n{proc.text()[-3000:]}") from None
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def wait_until(predicate, *, timeout=30.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s")


def metric(text, name, **labels):
    """The value of one sample in Prometheus text (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        sample_name, _, rest = key.partition("{")
        if sample_name != name:
            continue
        got = ",".join(sorted(p for p in rest.rstrip("}").split(",") if p))
        if got == want:
            return float(value)
    return 0.0
