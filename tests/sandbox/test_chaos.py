"""Fault injection (the sandbox's chaos switches) over real HTTP."""

from __future__ import annotations

import json
import random
import threading
import time

import pytest
import requests

from costbridge_testing.shared import samples_dir
from sandbox.server import SandboxServer
from tests.sandbox.conftest import Api

SAMPLES = samples_dir()


def _create_vendor(sandbox_api: Api, name: str) -> requests.Response:
    return sandbox_api.post("vendor", {"DisplayName": name})


def _vendor_names(sandbox_api: Api) -> set[str]:
    realm = sandbox_api.server.sandbox.realm(sandbox_api.realm_id)
    return {v["DisplayName"] for v in realm.all("Vendor")}


def _code(resp: requests.Response) -> str:
    return str(resp.json()["Fault"]["Error"][0]["code"])


def test_next_n_requests_get_the_status(server: SandboxServer, sandbox_api: Api) -> None:
    server.sandbox.chaos.configure(status=503, count=2)
    first, second, third = sandbox_api.read(), sandbox_api.read(), sandbox_api.read()
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json()["Fault"]["type"] == "SystemFault"
    assert "intuit_tid" in first.headers
    assert server.sandbox.chaos.injected() == 2
    assert server.sandbox.chaos.state()["rules"][0]["remaining"] == 0


def test_injected_429_uses_the_throttle_body(server: SandboxServer, sandbox_api: Api) -> None:
    server.sandbox.chaos.configure(status=429, count=1, retry_after=7)
    resp = sandbox_api.read()
    sample = json.loads((SAMPLES / "throttle.429.body.json").read_text())
    assert resp.status_code == 429
    # Intuit's gateway answers a 429 in XML even to a JSON client (API.md §3.3).
    assert 'code="3001"' in resp.text
    assert sample["Fault"]["Error"][0]["Detail"] in resp.text
    # Only when asked: Intuit sends no Retry-After, but clients must honour one if present.
    assert resp.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("code", "status"), [("6000", 400), ("5010", 400), ("3200", 401), ("6190", 400)]
)
def test_fault_code_gets_a_qbo_shaped_body(
    server: SandboxServer, sandbox_api: Api, code: str, status: int
) -> None:
    server.sandbox.chaos.configure(fault_code=code, count=1)
    resp = sandbox_api.read()
    assert resp.status_code == status
    assert _code(resp) == code
    assert set(resp.json()) == {"Fault", "time"}


def test_fraction_is_random_but_reproducible_with_a_seed(
    server: SandboxServer, sandbox_api: Api
) -> None:
    server.sandbox.chaos.configure(status=500, fraction=0.3, seed=42)
    statuses = [sandbox_api.read().status_code for _ in range(40)]
    rng = random.Random(42)
    expected = [500 if rng.random() < 0.3 else 200 for _ in range(40)]
    assert statuses == expected
    assert 0 < statuses.count(500) < 40
    assert server.sandbox.chaos.injected() == statuses.count(500)


def test_latency_delays_the_answer(server: SandboxServer, sandbox_api: Api) -> None:
    server.sandbox.chaos.configure(latency_ms=300, count=1)
    started = time.monotonic()
    resp = sandbox_api.read()
    assert resp.status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    sandbox_api.read()
    assert time.monotonic() - started < 0.3


def test_dropped_connection_is_a_client_side_connection_error(
    server: SandboxServer, sandbox_api: Api
) -> None:
    server.sandbox.chaos.configure(drop_connection=True, count=1)
    with pytest.raises(requests.ConnectionError):
        sandbox_api.read()
    assert sandbox_api.read().status_code == 200
    assert server.sandbox.chaos.state()["injected_by"] == {"api:drop": 1}


def test_drop_before_the_write_leaves_nothing_behind(
    server: SandboxServer, sandbox_api: Api
) -> None:
    server.sandbox.chaos.configure(drop_connection=True, count=1, paths=["vendor"])
    with pytest.raises(requests.ConnectionError):
        _create_vendor(sandbox_api, "Dropped Before")
    assert "Dropped Before" not in _vendor_names(sandbox_api)


def test_drop_after_commit_is_an_unknown_outcome(server: SandboxServer, sandbox_api: Api) -> None:
    server.sandbox.chaos.configure(drop_connection=True, count=1, phase="after")
    with pytest.raises(requests.ConnectionError):
        _create_vendor(sandbox_api, "Committed Then Dropped")
    assert "Committed Then Dropped" in _vendor_names(sandbox_api)


def test_status_after_commit(server: SandboxServer, sandbox_api: Api) -> None:
    server.sandbox.chaos.configure(status=503, count=1, phase="after")
    resp = _create_vendor(sandbox_api, "Committed Then 503")
    assert resp.status_code == 503
    assert "Committed Then 503" in _vendor_names(sandbox_api)


def test_paths_restrict_the_rule(server: SandboxServer, sandbox_api: Api) -> None:
    server.sandbox.chaos.configure(status=500, paths=["vendor"])
    assert sandbox_api.read().status_code == 200
    assert _create_vendor(sandbox_api, "Path Filtered").status_code == 500
    full = f"/v3/company/{sandbox_api.realm_id}/companyinfo"
    server.sandbox.chaos.configure(status=500, paths=[full])
    assert sandbox_api.read().status_code == 500


def test_rules_can_be_chained_in_time(server: SandboxServer, sandbox_api: Api) -> None:
    # RELIABILITY.md recipe 4's shape: a 429 storm for a while, then random 503s.
    chaos = server.sandbox.chaos
    server.sandbox.clock.freeze()
    try:
        chaos.configure(status=429, for_seconds=60)
        chaos.configure(status=503, fraction=1.0, append=True)
        assert sandbox_api.read().status_code == 429
        server.sandbox.clock.advance(61)
        assert sandbox_api.read().status_code == 503
    finally:
        server.sandbox.clock.unfreeze()


def test_token_endpoint_faults(server: SandboxServer, sandbox_api: Api) -> None:
    server.sandbox.chaos.configure(target="token", status=503, count=1)
    assert sandbox_api.read().status_code == 200  # API requests are not affected
    down = sandbox_api.refresh()
    assert down.status_code == 503
    assert down.json() == {"error": "temporarily_unavailable"}
    assert sandbox_api.refresh().status_code == 200


def test_token_answer_lost_after_rotation_strands_the_client(
    server: SandboxServer, sandbox_api: Api
) -> None:
    # The refresh happens, the answer never arrives: the old token is already dead.
    server.sandbox.chaos.configure(target="token", drop_connection=True, phase="after", count=1)
    with pytest.raises(requests.ConnectionError):
        sandbox_api.refresh()
    again = sandbox_api.refresh()
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant"}


def test_token_latency_before_delays_the_grant_itself(
    server: SandboxServer, sandbox_api: Api
) -> None:
    # "before" means nothing has happened yet while the client waits: the refresh token has
    # not rotated, so a process killed in that window loses nothing.
    server.sandbox.chaos.configure(target="token", phase="before", latency_ms=800, count=1)
    rotated_before = server.sandbox.oauth.state()["refresh_tokens"]["rotated"]
    answer: list[requests.Response] = []
    worker = threading.Thread(target=lambda: answer.append(sandbox_api.refresh()))
    worker.start()
    # Wait until the sandbox holds the request in its latency, then look.
    deadline = time.monotonic() + 5
    while server.sandbox.chaos.injected() == 0:
        assert time.monotonic() < deadline, "the refresh never reached the sandbox"
        time.sleep(0.01)
    assert worker.is_alive()
    assert server.sandbox.oauth.state()["refresh_tokens"]["rotated"] == rotated_before
    worker.join(5)
    assert answer[0].status_code == 200
    assert server.sandbox.oauth.state()["refresh_tokens"]["rotated"] == rotated_before + 1


def test_control_route_installs_and_clears(server: SandboxServer, sandbox_api: Api) -> None:
    resp = requests.post(
        f"{server.url}/_sandbox/faults", json={"status": 500, "count": 1}, timeout=5
    )
    assert resp.status_code == 200
    assert sandbox_api.read().status_code == 500
    requests.post(f"{server.url}/_sandbox/faults", json={"status": 500}, timeout=5)
    cleared = requests.delete(f"{server.url}/_sandbox/faults", timeout=5)
    assert cleared.status_code == 200
    assert sandbox_api.read().status_code == 200
    assert server.sandbox.chaos.injected() == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"status": 200},
        {"status": 500, "fraction": 1.5},
        {"status": 500, "count": 0},
        {"status": 500, "target": "x"},
        {"status": 500, "phase": "during"},
    ],
)
def test_configure_rejects_nonsense(server: SandboxServer, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must|give at least"):
        server.sandbox.chaos.configure(**kwargs)  # type: ignore[arg-type]
