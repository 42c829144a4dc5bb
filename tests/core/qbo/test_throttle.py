"""The shared per-realm throttle: real Redis, real processes, and the sandbox's own limits."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

import pytest
from redis import Redis

from core.errors import TryLater
from core.qbo.client import QboClient
from core.qbo.custody import TokenManager
from core.qbo.errors import Throttled
from core.qbo.throttle import Limits
from core.qbo.throttle import RealmThrottle
from core.runtime import Runtime
from costbridge_testing.sandbox import Control

REALM = "9130350000000001"


def hold_slot_forever(redis_url: str, ready: Any) -> None:
    """Take the realm's only in-flight slot and never give it back (the parent kills us)."""
    throttle = RealmThrottle(Redis.from_url(redis_url), Limits(in_flight=1), lease_seconds=1.0)
    with throttle.slot(REALM):
        ready.set()
        time.sleep(600)


def test_per_minute_budget_makes_callers_wait_instead_of_exceeding(redis_conn: Redis) -> None:
    throttle = RealmThrottle(redis_conn, Limits(per_minute=5, window_ms=1000))
    started: list[float] = []
    begin = time.monotonic()
    for _ in range(12):
        with throttle.slot(REALM):
            started.append(time.monotonic())
    assert started[-1] - begin >= 2.0
    for i, t in enumerate(started):  # never more than 5 in any sliding second
        assert sum(1 for u in started[i:] if u - t < 1.0) <= 5


def test_in_flight_is_capped_across_threads(redis_conn: Redis) -> None:
    throttle = RealmThrottle(redis_conn, Limits(in_flight=3))
    lock = threading.Lock()
    now = [0]
    peak = [0]

    def work() -> None:
        for _ in range(5):
            with throttle.slot(REALM):
                with lock:
                    now[0] += 1
                    peak[0] = max(peak[0], now[0])
                time.sleep(0.02)
                with lock:
                    now[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3
    assert throttle.in_flight(REALM) == 0


def test_a_killed_process_does_not_leak_its_slot_past_the_lease(
    redis_conn: Redis, redis_url: str
) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=hold_slot_forever, args=(redis_url, ready))
    proc.start()
    try:
        assert ready.wait(60)
        proc.kill()
        proc.join(10)
        throttle = RealmThrottle(redis_conn, Limits(in_flight=1), max_wait=5.0)
        begin = time.monotonic()
        with throttle.slot(REALM):
            waited = time.monotonic() - begin
        assert waited < 2.0
    finally:
        if proc.is_alive():
            proc.kill()


def test_batch_calls_have_their_own_budget(redis_conn: Redis) -> None:
    throttle = RealmThrottle(redis_conn, Limits(per_minute=100, batch_per_minute=2, window_ms=1000))
    begin = time.monotonic()
    for _ in range(5):
        with throttle.slot(REALM):
            pass
    assert time.monotonic() - begin < 0.5
    for _ in range(3):
        with throttle.slot(REALM, batch=True):
            pass
    assert time.monotonic() - begin >= 0.9


def _sent_at_once(throttle: RealmThrottle, *, batch: bool) -> int:
    """How many requests the throttle lets through before one would have to wait."""
    sent = 0
    while sent < 100:
        try:
            with throttle.slot(REALM, batch=batch):
                sent += 1
        except Throttled:
            break
    return sent


def test_singles_leave_room_for_the_batch_calls_the_window_still_allows(
    redis_conn: Redis,
) -> None:
    limits = Limits(per_minute=10, batch_per_minute=3, window_ms=2000)
    throttle = RealmThrottle(redis_conn, limits, max_wait=0.0)
    with throttle.slot(REALM, batch=True):
        pass
    # 10 requests a window: the batch sent, the 2 batches still allowed, 7 singles.
    assert _sent_at_once(throttle, batch=False) == 7
    assert _sent_at_once(throttle, batch=True) == 2


def test_without_batches_singles_have_the_whole_budget(redis_conn: Redis) -> None:
    throttle = RealmThrottle(
        redis_conn, Limits(per_minute=10, batch_per_minute=3, window_ms=2000), max_wait=0.0
    )
    assert _sent_at_once(throttle, batch=False) == 10


def test_waiting_is_bounded_and_ends_in_try_later(redis_conn: Redis) -> None:
    throttle = RealmThrottle(redis_conn, Limits(in_flight=1), max_wait=0.3)
    with throttle.slot(REALM):
        begin = time.monotonic()
        with pytest.raises(Throttled) as caught, throttle.slot(REALM):
            pass
    assert isinstance(caught.value, TryLater)
    assert 0.3 <= time.monotonic() - begin < 1.5


def test_a_pause_after_a_429_holds_every_caller(redis_conn: Redis, redis_url: str) -> None:
    throttle = RealmThrottle(redis_conn, Limits())
    other = RealmThrottle(Redis.from_url(redis_url))  # another worker's connection
    throttle.pause(REALM, 0.5)
    begin = time.monotonic()
    with other.slot(REALM):
        pass
    assert time.monotonic() - begin >= 0.45
    other.redis.close()


def test_client_within_the_sandbox_limits_never_sees_a_429(
    qbo_runtime: Runtime, realm_id: str, token_manager: TokenManager, sandbox_control: Control
) -> None:
    sandbox_control.throttle(per_minute=40, concurrent=3, reset=True)
    sandbox_control.faults(latency_ms=30)
    throttle = RealmThrottle(qbo_runtime.redis, Limits(per_minute=40, in_flight=3), max_wait=0.5)
    qbo_client = QboClient(
        realm_id,
        token_manager,
        base_url=qbo_runtime.settings.qbo_api_base,
        throttle=throttle,
        throttle_wait=0.2,
    )
    qbo_client.company_info()  # warm the token cache
    results: list[Any] = []

    def work() -> None:
        for _ in range(4):
            results.append(qbo_client.company_info()["CompanyName"])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 32
    stats = sandbox_control.throttle_stats()["realms"][realm_id]
    assert stats["throttled"] == 0
    assert stats["max_concurrent"] <= 3
    # The budget is now used up (1 warm-up + 32 + the connect's none = 33 of 40); the rest
    # waits, and a caller that cannot wait long enough gets TryLater without sending anything.
    for _ in range(7):
        qbo_client.company_info()
    sent = sandbox_control.counters()["requests"]
    with pytest.raises(Throttled):
        qbo_client.company_info()
    assert sandbox_control.counters()["requests"] == sent
