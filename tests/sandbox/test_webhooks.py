"""Webhook notifications (API.md §10): payloads, signature, batching, retries, over real HTTP.

A tiny ``http.server`` on 127.0.0.1 plays the app's webhook endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
import requests

from costbridge_testing.shared import samples_dir
from sandbox.server import SandboxServer
from sandbox.webhooks import sign
from tests.sandbox.conftest import Api

SAMPLES = samples_dir()
VERIFIER = "test-verifier-token"


class Receiver:
    """A webhook endpoint that records each POST and answers with scripted statuses."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._cond:
                    receiver.received.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/webhooks/qbo"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < n:
                left = deadline - time.monotonic()
                assert left > 0, f"got {len(self.received)} webhook POSTs, wanted {n}"
                self._cond.wait(left)
            return list(self.received)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


def _create_vendor(sandbox_api: Api) -> str:
    # Unique across the module's tests: they share one company.
    name = f"Webhook Vendor {uuid.uuid4().hex[:12]}"
    return str(sandbox_api.create("Vendor", {"DisplayName": name})["Id"])


def _verify(headers: dict[str, str], body: bytes, verifier: str = VERIFIER) -> None:
    expected = base64.b64encode(hmac.new(verifier.encode(), body, hashlib.sha256).digest())
    assert hmac.compare_digest(headers["intuit-signature"].encode(), expected)


def test_create_sends_a_signed_legacy_notification(
    server: SandboxServer, sandbox_api: Api, receiver: Receiver
) -> None:
    server.sandbox.webhooks.configure(
        url=receiver.url, verifier=VERIFIER, batch_window_seconds=0.05
    )
    vendor_id = _create_vendor(sandbox_api)
    [(headers, body)] = receiver.wait_for(1)
    _verify(headers, body)
    assert headers["content-type"] == "application/json"
    payload = json.loads(body)
    sample = json.loads((SAMPLES / "webhook.payload.json").read_text())
    assert set(payload) == set(sample)
    [note] = payload["eventNotifications"]
    assert set(note) == set(sample["eventNotifications"][0])
    assert note["realmId"] == sandbox_api.realm_id
    [entity] = note["dataChangeEvent"]["entities"]
    assert set(entity) == set(sample["eventNotifications"][0]["dataChangeEvent"]["entities"][0])
    assert entity["name"] == "Vendor"
    assert entity["id"] == vendor_id
    assert entity["operation"] == "Create"
    # UTC with milliseconds and a Z, like the sample's "2024-05-21T17:02:13.017Z".
    assert len(entity["lastUpdated"]) == 24
    assert entity["lastUpdated"].endswith("Z")
    assert server.sandbox.webhooks.wait_idle(5)
    [attempt] = server.sandbox.webhooks.deliveries()
    assert attempt["url"] == receiver.url
    assert attempt["status"] == 200
    assert attempt["attempt"] == 1
    assert attempt["events"] == 1
    assert attempt["ok"] is True


def test_a_forged_signature_does_not_verify(
    server: SandboxServer, sandbox_api: Api, receiver: Receiver
) -> None:
    server.sandbox.webhooks.configure(
        url=receiver.url, verifier=VERIFIER, batch_window_seconds=0.05
    )
    _create_vendor(sandbox_api)
    [(headers, body)] = receiver.wait_for(1)
    assert headers["intuit-signature"] == sign(VERIFIER, body)
    assert headers["intuit-signature"] != sign("another-verifier", body)
    assert headers["intuit-signature"] != sign(VERIFIER, body + b" ")


def test_changes_within_the_window_share_one_post(
    server: SandboxServer, sandbox_api: Api, receiver: Receiver
) -> None:
    server.sandbox.webhooks.configure(url=receiver.url, verifier=VERIFIER, batch_window_seconds=0.4)
    ids = [_create_vendor(sandbox_api) for _ in range(3)]
    [(headers, body)] = receiver.wait_for(1)
    _verify(headers, body)
    entities = json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"]
    assert [e["id"] for e in entities] == ids
    assert server.sandbox.webhooks.wait_idle(5)
    assert len(receiver.received) == 1


def test_cloudevents_format(server: SandboxServer, sandbox_api: Api, receiver: Receiver) -> None:
    server.sandbox.webhooks.configure(
        url=receiver.url, verifier=VERIFIER, format="cloudevents", batch_window_seconds=0.05
    )
    vendor_id = _create_vendor(sandbox_api)
    [(headers, body)] = receiver.wait_for(1)
    _verify(headers, body)
    events = json.loads(body)
    sample = json.loads((SAMPLES / "webhook.cloudevents.payload.json").read_text())
    assert isinstance(events, list)
    [event] = events
    assert set(event) == set(sample[0])
    assert event["specversion"] == "1.0"
    assert event["type"] == "qbo.vendor.created.v1"
    assert event["intuitentityid"] == vendor_id
    assert event["intuitaccountid"] == sandbox_api.realm_id
    assert event["datacontenttype"] == "application/json"
    assert event["source"].startswith("intuit.")
    assert event["data"] == {}


def test_failed_delivery_is_retried_with_the_same_signed_body(
    server: SandboxServer, sandbox_api: Api
) -> None:
    rec = Receiver(statuses=[500, 503, 200])
    try:
        server.sandbox.webhooks.configure(
            url=rec.url, verifier=VERIFIER, batch_window_seconds=0.05, retry_delays=[0.05, 0.1]
        )
        _create_vendor(sandbox_api)
        got = rec.wait_for(3)
        assert server.sandbox.webhooks.wait_idle(5)
    finally:
        rec.close()
    assert got[0] == got[1] == got[2]
    _verify(*got[2])
    log = server.sandbox.webhooks.deliveries()
    assert [(d["attempt"], d["status"], d["ok"], d["final"]) for d in log] == [
        (1, 500, False, False),
        (2, 503, False, False),
        (3, 200, True, True),
    ]


def test_connection_errors_are_retried_then_given_up(
    server: SandboxServer, sandbox_api: Api
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    server.sandbox.webhooks.configure(
        url=f"http://127.0.0.1:{dead_port}/hook",
        verifier=VERIFIER,
        batch_window_seconds=0.01,
        retry_delays=[0.01, 0.01],
    )
    _create_vendor(sandbox_api)
    deadline = time.monotonic() + 5
    while not any(d["gave_up"] for d in server.sandbox.webhooks.deliveries()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    log = server.sandbox.webhooks.deliveries()
    assert [d["attempt"] for d in log] == [1, 2, 3]
    assert all(d["status"] is None and d["error"] for d in log)
    assert log[-1]["final"] is True


def test_later_events_wait_behind_a_failing_delivery(
    server: SandboxServer, sandbox_api: Api
) -> None:
    rec = Receiver(statuses=[500])
    try:
        server.sandbox.webhooks.configure(
            url=rec.url, verifier=VERIFIER, batch_window_seconds=0.01, retry_delays=[0.4]
        )
        first = _create_vendor(sandbox_api)
        rec.wait_for(1)
        second = _create_vendor(sandbox_api)  # arrives while the first waits for its retry
        got = rec.wait_for(3)
    finally:
        rec.close()
    ids = [
        json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"][0]["id"]
        for _, body in got
    ]
    assert ids == [first, first, second]


def test_stop_is_prompt_during_a_long_retry_delay(server: SandboxServer, sandbox_api: Api) -> None:
    rec = Receiver(statuses=[500])
    try:
        server.sandbox.webhooks.configure(
            url=rec.url, verifier=VERIFIER, batch_window_seconds=0.01, retry_delays=[300]
        )
        _create_vendor(sandbox_api)
        rec.wait_for(1)
        started = time.monotonic()
        server.sandbox.webhooks.stop()
        assert time.monotonic() - started < 2
    finally:
        server.sandbox.webhooks.start()
        rec.close()


def test_control_route_configures_and_lists_deliveries(
    server: SandboxServer, sandbox_api: Api, receiver: Receiver
) -> None:
    resp = requests.post(
        f"{server.url}/_sandbox/webhooks",
        timeout=5,
        json={"url": receiver.url, "verifier": VERIFIER, "batch_window_seconds": 0.05},
    )
    assert resp.status_code == 200
    assert VERIFIER not in resp.text
    _create_vendor(sandbox_api)
    receiver.wait_for(1)
    assert server.sandbox.webhooks.wait_idle(5)
    log = requests.get(f"{server.url}/_sandbox/webhooks", timeout=5).json()
    assert [d["status"] for d in log] == [200]


def test_no_url_means_no_delivery(server: SandboxServer, sandbox_api: Api) -> None:
    _create_vendor(sandbox_api)
    assert server.sandbox.webhooks.pending() == 0
    assert server.sandbox.webhooks.deliveries() == []


@pytest.mark.parametrize(
    "kwargs", [{"url": "ftp://127.0.0.1/x"}, {"format": "xml"}, {"retry_delays": [-1]}]
)
def test_configure_rejects_nonsense(server: SandboxServer, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="webhook|must"):
        server.sandbox.webhooks.configure(**kwargs)
