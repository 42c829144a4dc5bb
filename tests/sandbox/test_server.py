"""SandboxServer: start, serve, stop."""

from __future__ import annotations

import time

import requests

from sandbox.server import SandboxServer


def test_stop_is_prompt() -> None:
    server = SandboxServer(seed="none").start()
    assert requests.get(f"{server.url}/_sandbox/counters", timeout=5).status_code == 200
    started = time.perf_counter()
    server.stop()
    # Werkzeug's default 0.5 s poll interval would make this wait up to half a second.
    assert time.perf_counter() - started < 0.25
    server.stop()  # a second stop is a no-op
