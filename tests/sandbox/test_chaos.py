"""Fault injection (the sandbox's chaos switches) over real HTTP."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
import requests

from sandbox.server import SandboxServer

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "qbo" / "samples"
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def shared_server() -> Iterator[SandboxServer]:
    # One server per module: stopping one waits out Werkzeug's 0.5 s shutdown poll.
    with SandboxServer(port=0) as srv:
        yield srv


@pytest.fixture
def server(shared_server: SandboxServer) -> SandboxServer:
    sb = shared_server.sandbox
    sb.chaos.clear()
    sb.throttle.reset()
    return shared_server


class Api:
    """A connected client: one realm, one access token."""

    def __init__(self, srv: SandboxServer) -> None:
        self.srv = srv
        client = srv.sandbox.config.oauth_clients[0]
        self.auth = (client.client_id, client.secret)
        query = urlencode({"client_id": client.client_id, "response_type": "code",
                           "scope": "com.intuit.quickbooks.accounting",
                           "redirect_uri": REDIRECT, "state": "s"})
        consent = requests.get(f"{srv.url}/connect/oauth2?{query}", allow_redirects=False,
                               timeout=5)
        cb = parse_qs(urlsplit(consent.headers["Location"]).query)
        self.token = self.token_call({"grant_type": "authorization_code", "code": cb["code"][0],
                                      "redirect_uri": REDIRECT}).json()
        self.realm = cb["realmId"][0]
        self.headers = {"Authorization": f"Bearer {self.token['access_token']}",
                        "Accept": "application/json", "Content-Type": "application/json"}

    def token_call(self, data: dict[str, str]) -> requests.Response:
        return requests.post(f"{self.srv.url}/oauth2/v1/tokens/bearer", data=data,
                             auth=self.auth, timeout=5)

    def read(self) -> requests.Response:
        return requests.get(
            f"{self.srv.url}/v3/company/{self.realm}/companyinfo/{self.realm}?minorversion=75",
            headers=self.headers, timeout=10)

    def create_vendor(self, name: str) -> requests.Response:
        return requests.post(f"{self.srv.url}/v3/company/{self.realm}/vendor?minorversion=75",
                             json={"DisplayName": name}, headers=self.headers, timeout=10)

    def vendor_names(self) -> set[str]:
        realm = self.srv.sandbox.realm(self.realm)
        return {v["DisplayName"] for v in realm.all("Vendor")}


@pytest.fixture
def api(server: SandboxServer) -> Api:
    return Api(server)


def _code(resp: requests.Response) -> str:
    return str(resp.json()["Fault"]["Error"][0]["code"])


def test_next_n_requests_get_the_status(server: SandboxServer, api: Api) -> None:
    server.sandbox.chaos.configure(status=503, count=2)
    first, second, third = api.read(), api.read(), api.read()
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json()["Fault"]["type"] == "SystemFault"
    assert "intuit_tid" in first.headers
    assert server.sandbox.chaos.injected() == 2
    assert server.sandbox.chaos.state()["rules"][0]["remaining"] == 0


def test_injected_429_uses_the_throttle_body(server: SandboxServer, api: Api) -> None:
    server.sandbox.chaos.configure(status=429, count=1, retry_after=7)
    resp = api.read()
    sample = json.loads((SAMPLES / "throttle.429.body.json").read_text())
    assert resp.status_code == 429
    assert resp.json()["Fault"] == sample["Fault"]
    # Only when asked: Intuit sends no Retry-After, but clients must honour one if present.
    assert resp.headers["Retry-After"] == "7"


@pytest.mark.parametrize(("code", "status"), [("6000", 400), ("5010", 400), ("3200", 401),
                                              ("6190", 400)])
def test_fault_code_gets_a_qbo_shaped_body(
    server: SandboxServer, api: Api, code: str, status: int
) -> None:
    server.sandbox.chaos.configure(fault_code=code, count=1)
    resp = api.read()
    assert resp.status_code == status
    assert _code(resp) == code
    assert set(resp.json()) == {"Fault", "time"}


def test_fraction_is_random_but_reproducible_with_a_seed(server: SandboxServer, api: Api) -> None:
    server.sandbox.chaos.configure(status=500, fraction=0.3, seed=42)
    statuses = [api.read().status_code for _ in range(40)]
    rng = random.Random(42)
    expected = [500 if rng.random() < 0.3 else 200 for _ in range(40)]
    assert statuses == expected
    assert 0 < statuses.count(500) < 40
    assert server.sandbox.chaos.injected() == statuses.count(500)


def test_latency_delays_the_answer(server: SandboxServer, api: Api) -> None:
    server.sandbox.chaos.configure(latency_ms=300, count=1)
    started = time.monotonic()
    resp = api.read()
    assert resp.status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.read()
    assert time.monotonic() - started < 0.3


def test_dropped_connection_is_a_client_side_connection_error(
    server: SandboxServer, api: Api
) -> None:
    server.sandbox.chaos.configure(drop_connection=True, count=1)
    with pytest.raises(requests.ConnectionError):
        api.read()
    assert api.read().status_code == 200
    assert server.sandbox.chaos.state()["injected_by"] == {"api:drop": 1}


def test_drop_before_the_write_leaves_nothing_behind(server: SandboxServer, api: Api) -> None:
    server.sandbox.chaos.configure(drop_connection=True, count=1, paths=["vendor"])
    with pytest.raises(requests.ConnectionError):
        api.create_vendor("Dropped Before")
    assert "Dropped Before" not in api.vendor_names()


def test_drop_after_commit_is_an_unknown_outcome(server: SandboxServer, api: Api) -> None:
    server.sandbox.chaos.configure(drop_connection=True, count=1, phase="after")
    with pytest.raises(requests.ConnectionError):
        api.create_vendor("Committed Then Dropped")
    assert "Committed Then Dropped" in api.vendor_names()


def test_status_after_commit(server: SandboxServer, api: Api) -> None:
    server.sandbox.chaos.configure(status=503, count=1, phase="after")
    resp = api.create_vendor("Committed Then 503")
    assert resp.status_code == 503
    assert "Committed Then 503" in api.vendor_names()


def test_paths_restrict_the_rule(server: SandboxServer, api: Api) -> None:
    server.sandbox.chaos.configure(status=500, paths=["vendor"])
    assert api.read().status_code == 200
    assert api.create_vendor("Path Filtered").status_code == 500
    full = f"/v3/company/{api.realm}/companyinfo"
    server.sandbox.chaos.configure(status=500, paths=[full])
    assert api.read().status_code == 500


def test_rules_can_be_chained_in_time(server: SandboxServer, api: Api) -> None:
    # RELIABILITY.md recipe 4's shape: a 429 storm for a while, then random 503s.
    chaos = server.sandbox.chaos
    server.sandbox.clock.freeze()
    try:
        chaos.configure(status=429, for_seconds=60)
        chaos.configure(status=503, fraction=1.0, append=True)
        assert api.read().status_code == 429
        server.sandbox.clock.advance(61)
        assert api.read().status_code == 503
    finally:
        server.sandbox.clock.unfreeze()


def test_token_endpoint_faults(server: SandboxServer, api: Api) -> None:
    server.sandbox.chaos.configure(target="token", status=503, count=1)
    assert api.read().status_code == 200  # API requests are not affected
    refresh = {"grant_type": "refresh_token", "refresh_token": api.token["refresh_token"]}
    down = api.token_call(refresh)
    assert down.status_code == 503
    assert down.json() == {"error": "temporarily_unavailable"}
    assert api.token_call(refresh).status_code == 200


def test_token_answer_lost_after_rotation_strands_the_client(
    server: SandboxServer, api: Api
) -> None:
    # The refresh happens, the answer never arrives: the old token is already dead.
    server.sandbox.chaos.configure(target="token", drop_connection=True, phase="after", count=1)
    refresh = {"grant_type": "refresh_token", "refresh_token": api.token["refresh_token"]}
    with pytest.raises(requests.ConnectionError):
        api.token_call(refresh)
    again = api.token_call(refresh)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant"}


def test_control_route_installs_and_clears(server: SandboxServer, api: Api) -> None:
    resp = requests.post(f"{server.url}/_sandbox/faults", json={"status": 500, "count": 1},
                         timeout=5)
    assert resp.status_code == 200
    assert api.read().status_code == 500
    requests.post(f"{server.url}/_sandbox/faults", json={"status": 500}, timeout=5)
    cleared = requests.delete(f"{server.url}/_sandbox/faults", timeout=5)
    assert cleared.status_code == 200
    assert api.read().status_code == 200
    assert server.sandbox.chaos.injected() == 0


@pytest.mark.parametrize("kwargs", [{}, {"status": 200}, {"status": 500, "fraction": 1.5},
                                    {"status": 500, "count": 0}, {"status": 500, "target": "x"},
                                    {"status": 500, "phase": "during"}])
def test_configure_rejects_nonsense(server: SandboxServer, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must|give at least"):
        server.sandbox.chaos.configure(**kwargs)  # type: ignore[arg-type]
