"""Per-realm throttling (API.md §9) over real HTTP: rate, concurrency and batch limits."""

from __future__ import annotations

import json
import threading
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
    sb.clock.unfreeze()
    return shared_server


@pytest.fixture
def api(server: SandboxServer) -> Api:
    return Api(server)


class Api:
    """A connected client: one realm, one access token."""

    def __init__(self, srv: SandboxServer) -> None:
        self.srv = srv
        client = srv.sandbox.config.oauth_clients[0]
        query = urlencode({"client_id": client.client_id, "response_type": "code",
                           "scope": "com.intuit.quickbooks.accounting",
                           "redirect_uri": REDIRECT, "state": "s"})
        consent = requests.get(f"{srv.url}/connect/oauth2?{query}", allow_redirects=False,
                               timeout=5)
        cb = parse_qs(urlsplit(consent.headers["Location"]).query)
        token = requests.post(
            f"{srv.url}/oauth2/v1/tokens/bearer",
            data={"grant_type": "authorization_code", "code": cb["code"][0],
                  "redirect_uri": REDIRECT},
            auth=(client.client_id, client.secret), timeout=5,
        ).json()
        self.realm = cb["realmId"][0]
        self.headers = {"Authorization": f"Bearer {token['access_token']}",
                        "Accept": "application/json", "Content-Type": "application/json"}

    def read(self) -> requests.Response:
        return requests.get(
            f"{self.srv.url}/v3/company/{self.realm}/companyinfo/{self.realm}?minorversion=75",
            headers=self.headers, timeout=10)

    def batch(self) -> requests.Response:
        body = {"BatchItemRequest": [{"bId": "q1", "Query": "SELECT * FROM Account"}]}
        return requests.post(f"{self.srv.url}/v3/company/{self.realm}/batch?minorversion=75",
                             json=body, headers=self.headers, timeout=10)


def _assert_throttle_body(resp: requests.Response) -> None:
    sample = json.loads((SAMPLES / "throttle.429.body.json").read_text())
    assert resp.status_code == 429
    body = resp.json()
    assert body["Fault"] == sample["Fault"]
    assert set(body) == {"Fault", "time"}
    # Intuit documents no Retry-After on 429 (API.md §9).
    assert "Retry-After" not in resp.headers


def test_429_after_the_per_minute_limit_with_intuits_body(server: SandboxServer, api: Api) -> None:
    server.sandbox.throttle.configure(per_minute=5)
    assert [api.read().status_code for _ in range(5)] == [200] * 5
    _assert_throttle_body(api.read())
    stats = server.sandbox.throttle.stats()["realms"][api.realm]
    assert stats["requests_current_minute"] == 5
    assert stats["throttled"] == 1
    assert stats["throttled_by"]["per_minute"] == 1


def test_advancing_the_clock_a_minute_reopens_the_window(server: SandboxServer, api: Api) -> None:
    server.sandbox.throttle.configure(per_minute=3)
    for _ in range(3):
        assert api.read().status_code == 200
    assert api.read().status_code == 429
    server.sandbox.clock.advance(60)
    assert api.read().status_code == 200


def test_window_slides_instead_of_resetting_on_the_minute(
    server: SandboxServer, api: Api
) -> None:
    server.sandbox.clock.freeze()
    server.sandbox.throttle.configure(per_minute=4)
    for _ in range(2):
        assert api.read().status_code == 200
    server.sandbox.clock.advance(40)
    for _ in range(2):
        assert api.read().status_code == 200
    assert api.read().status_code == 429
    server.sandbox.clock.advance(21)  # the first two are now more than 60 s old
    assert [api.read().status_code for _ in range(3)] == [200, 200, 429]


def test_concurrency_cap_refuses_the_eleventh_slow_request(
    server: SandboxServer, api: Api
) -> None:
    # Latency alone is spent inside the throttle slot, so slow requests really overlap.
    server.sandbox.chaos.configure(latency_ms=1000)
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(13)

    def call() -> None:
        barrier.wait()
        code = api.read().status_code
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=call) for _ in range(13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 10
    assert statuses.count(429) == 3
    stats = server.sandbox.throttle.stats()["realms"][api.realm]
    assert stats["max_concurrent"] == 10
    assert stats["in_flight"] == 0
    assert stats["throttled_by"]["concurrent"] == 3


def test_batch_calls_have_their_own_lower_limit(server: SandboxServer, api: Api) -> None:
    server.sandbox.throttle.configure(batch_per_minute=2)
    assert api.batch().status_code == 200
    assert api.batch().status_code == 200
    _assert_throttle_body(api.batch())
    # Plain requests are still under the 500/min limit.
    assert api.read().status_code == 200
    stats = server.sandbox.throttle.stats()["realms"][api.realm]
    assert stats["batch_current_minute"] == 2
    assert stats["requests_current_minute"] == 3  # batch calls count as requests too


def test_limits_are_per_realm(server: SandboxServer, api: Api) -> None:
    other = Api(server)
    assert other.realm == api.realm  # consent picks the first company; connect a second one
    server.sandbox.add_realm("9130350000000777")
    server.sandbox.throttle.configure(per_minute=1)
    assert api.read().status_code == 200
    assert api.read().status_code == 429
    client = server.sandbox.config.oauth_clients[0]
    query = urlencode({"client_id": client.client_id, "response_type": "code",
                       "scope": "com.intuit.quickbooks.accounting", "redirect_uri": REDIRECT,
                       "realm_hint": "9130350000000777"})
    cb = parse_qs(urlsplit(requests.get(f"{server.url}/connect/oauth2?{query}",
                                        allow_redirects=False, timeout=5)
                           .headers["Location"]).query)
    token = requests.post(f"{server.url}/oauth2/v1/tokens/bearer",
                          data={"grant_type": "authorization_code", "code": cb["code"][0],
                                "redirect_uri": REDIRECT},
                          auth=(client.client_id, client.secret), timeout=5).json()
    resp = requests.get(f"{server.url}/v3/company/9130350000000777/preferences",
                        headers={"Authorization": f"Bearer {token['access_token']}",
                                 "Accept": "application/json"}, timeout=5)
    assert resp.status_code == 200


def test_disabled_throttle_lets_everything_through(server: SandboxServer, api: Api) -> None:
    server.sandbox.throttle.configure(per_minute=1, enabled=False)
    assert [api.read().status_code for _ in range(3)] == [200, 200, 200]
    assert server.sandbox.throttle.stats()["realms"][api.realm]["throttled"] == 0


def test_control_route_configures_and_reports(server: SandboxServer, api: Api) -> None:
    resp = requests.post(f"{server.url}/_sandbox/throttle", json={"per_minute": 2}, timeout=5)
    assert resp.status_code == 200
    assert resp.json()["per_minute"] == 2
    assert [api.read().status_code for _ in range(3)] == [200, 200, 429]
    stats = requests.get(f"{server.url}/_sandbox/throttle", timeout=5).json()
    assert stats["realms"][api.realm]["throttled"] == 1


@pytest.mark.parametrize("kwargs", [{"per_minute": 0}, {"concurrent": -1},
                                    {"batch_per_minute": True}, {"per_minute": "5"}])
def test_configure_rejects_nonsense(server: SandboxServer, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        server.sandbox.throttle.configure(**kwargs)  # type: ignore[arg-type]
