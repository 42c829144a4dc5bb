"""Per-realm throttling (API.md §9) over real HTTP: rate, concurrency and batch limits."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from costbridge_testing.shared import samples_dir
from sandbox.server import SandboxServer
from tests.sandbox.conftest import Api

SAMPLES = samples_dir()


def _batch(sandbox_api: Api) -> requests.Response:
    return sandbox_api.post(
        "batch", {"BatchItemRequest": [{"bId": "q1", "Query": "SELECT * FROM Account"}]}
    )


def _assert_throttle_body(resp: requests.Response) -> None:
    sample = json.loads((SAMPLES / "throttle.429.body.json").read_text())
    assert resp.status_code == 429
    if resp.headers["Content-Type"].startswith("application/xml"):
        # Intuit's gateway answers a 429 in XML even to a JSON client (API.md §3.3).
        assert 'type="SERVICE"' in resp.text
        assert 'code="3001"' in resp.text
        assert "Retry-After" not in resp.headers
        return
    body = resp.json()
    assert body["Fault"] == sample["Fault"]
    assert set(body) == {"Fault", "time"}
    # Intuit documents no Retry-After on 429 (API.md §9).
    assert "Retry-After" not in resp.headers


def test_429_after_the_per_minute_limit_with_intuits_body(
    server: SandboxServer, sandbox_api: Api
) -> None:
    server.sandbox.throttle.configure(per_minute=5)
    assert [sandbox_api.read().status_code for _ in range(5)] == [200] * 5
    _assert_throttle_body(sandbox_api.read())
    stats = server.sandbox.throttle.stats()["realms"][sandbox_api.realm_id]
    assert stats["requests_current_minute"] == 5
    assert stats["throttled"] == 1
    assert stats["throttled_by"]["per_minute"] == 1


def test_advancing_the_clock_a_minute_reopens_the_window(
    server: SandboxServer, sandbox_api: Api
) -> None:
    server.sandbox.throttle.configure(per_minute=3)
    for _ in range(3):
        assert sandbox_api.read().status_code == 200
    assert sandbox_api.read().status_code == 429
    server.sandbox.clock.advance(60)
    assert sandbox_api.read().status_code == 200


def test_window_slides_instead_of_resetting_on_the_minute(
    server: SandboxServer, sandbox_api: Api
) -> None:
    server.sandbox.clock.freeze()
    server.sandbox.throttle.configure(per_minute=4)
    for _ in range(2):
        assert sandbox_api.read().status_code == 200
    server.sandbox.clock.advance(40)
    for _ in range(2):
        assert sandbox_api.read().status_code == 200
    assert sandbox_api.read().status_code == 429
    server.sandbox.clock.advance(21)  # the first two are now more than 60 s old
    assert [sandbox_api.read().status_code for _ in range(3)] == [200, 200, 429]


def test_concurrency_cap_refuses_the_eleventh_slow_request(
    server: SandboxServer, sandbox_api: Api
) -> None:
    # Latency alone is spent inside the throttle slot, so slow requests really overlap.
    server.sandbox.chaos.configure(latency_ms=1000)
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(13)

    def call() -> None:
        barrier.wait()
        code = sandbox_api.read().status_code
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=call) for _ in range(13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 10
    assert statuses.count(429) == 3
    stats = server.sandbox.throttle.stats()["realms"][sandbox_api.realm_id]
    assert stats["max_concurrent"] == 10
    assert stats["in_flight"] == 0
    assert stats["throttled_by"]["concurrent"] == 3


def test_batch_calls_have_their_own_lower_limit(server: SandboxServer, sandbox_api: Api) -> None:
    server.sandbox.throttle.configure(batch_per_minute=2)
    assert _batch(sandbox_api).status_code == 200
    assert _batch(sandbox_api).status_code == 200
    _assert_throttle_body(_batch(sandbox_api))
    # Plain requests are still under the 500/min limit.
    assert sandbox_api.read().status_code == 200
    stats = server.sandbox.throttle.stats()["realms"][sandbox_api.realm_id]
    assert stats["batch_current_minute"] == 2
    assert stats["requests_current_minute"] == 3  # batch calls count as requests too


def test_limits_are_per_realm(server: SandboxServer, sandbox_api: Api) -> None:
    other = Api.connect(server)
    assert (
        other.realm_id == sandbox_api.realm_id
    )  # consent picks the first company; connect another
    server.sandbox.add_realm("9130350000000777")
    server.sandbox.throttle.configure(per_minute=1)
    assert sandbox_api.read().status_code == 200
    assert sandbox_api.read().status_code == 429
    second = Api.connect(server, realm_hint="9130350000000777")
    resp = second.get("preferences")
    assert resp.status_code == 200


def test_disabled_throttle_lets_everything_through(server: SandboxServer, sandbox_api: Api) -> None:
    server.sandbox.throttle.configure(per_minute=1, enabled=False)
    assert [sandbox_api.read().status_code for _ in range(3)] == [200, 200, 200]
    assert server.sandbox.throttle.stats()["realms"][sandbox_api.realm_id]["throttled"] == 0


def test_control_route_configures_and_reports(server: SandboxServer, sandbox_api: Api) -> None:
    resp = requests.post(f"{server.url}/_sandbox/throttle", json={"per_minute": 2}, timeout=5)
    assert resp.status_code == 200
    assert resp.json()["per_minute"] == 2
    assert [sandbox_api.read().status_code for _ in range(3)] == [200, 200, 429]
    stats = requests.get(f"{server.url}/_sandbox/throttle", timeout=5).json()
    assert stats["realms"][sandbox_api.realm_id]["throttled"] == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"per_minute": 0}, {"concurrent": -1}, {"batch_per_minute": True}, {"per_minute": "5"}],
)
def test_configure_rejects_nonsense(server: SandboxServer, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        server.sandbox.throttle.configure(**kwargs)  # type: ignore[arg-type]
