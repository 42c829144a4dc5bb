"""Huge webhook bodies are refused after 1 MB, without the server ever holding them.

The app runs in its own process (Werkzeug's threaded server on 127.0.0.1) so its peak memory
(`VmHWM`) can be read before and after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from costbridge_testing.services import TEST_TOKEN_KEY
from costbridge_testing.shared import repository_root

SERVE = """
import sys
from werkzeug.serving import make_server
from core.app import create_app
server = make_server("127.0.0.1", 0, create_app(), threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""
MB = 1024 * 1024
#: Each of the six bodies: together far more than the growth allowed, were they held.
BODY = 40 * MB


@pytest.fixture
def server(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    (tmp_path / "prometheus").mkdir()
    env = {
        **os.environ,
        "COSTBRIDGE_ENV": "test",
        "COSTBRIDGE_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY,
        "QBO_WEBHOOK_VERIFIER": "test-verifier-token",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SERVE],
        cwd=repository_root(),
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    block = b"x" * size
    for _ in range(total // size):
        yield block


def send(url: str, *, chunked: bool, codes: list[int]) -> None:
    body: bytes | Iterator[bytes] = chunks(BODY) if chunked else b"x" * BODY
    try:
        resp = requests.post(
            f"{url}/webhooks/qbo",
            data=body,
            headers={"Content-Type": "application/json", "intuit-signature": "x"},
            timeout=30,
        )
        codes.append(resp.status_code)
    except requests.ConnectionError:
        codes.append(413)  # the server answered and closed before the upload ended


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_six_40_mb_bodies_grow_the_server_by_less_than_150_mb(server: tuple[str, int]) -> None:
    url, pid = server
    assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
    # A small delivery first, so the baseline holds what the webhook path loads on first use;
    # six threads still cost some 60-100 MB whatever the body size (measured with 20 and 40 MB
    # bodies), and 240 MB of bodies held would show far past the limit.
    warm = requests.post(
        f"{url}/webhooks/qbo",
        data=b"{}",
        headers={"Content-Type": "application/json", "intuit-signature": "x"},
        timeout=10,
    )
    assert warm.status_code < 500
    before = peak_rss(pid)
    codes: list[int] = []
    posts = [
        threading.Thread(target=send, args=(url,), kwargs={"chunked": i % 2 == 0, "codes": codes})
        for i in range(6)
    ]
    for t in posts:
        t.start()
    for t in posts:
        t.join(timeout=60)
    assert codes == [413] * 6
    assert peak_rss(pid) - before < 150 * MB
