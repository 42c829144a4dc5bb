"""QBO client requests/s with throttles off, and share of the limit used with no 429s with them on.

Runs an in-process sandbox over real HTTP on 127.0.0.1, a SQLite token store in a temporary
folder and Redis database 14 (only this benchmark's keys are touched). Three phases:

1. throttles off (sandbox and client): requests/s of `company_info()` with 1 and 8 threads, and
   with the client's Redis throttle on but limits out of reach (its overhead);
2. per-minute limit: sandbox and client both at 120/min and 4 in flight, 8 threads for 30 s;
   a 60 s sliding window means the run may send exactly 120, so "share of limit" is sent / 120
   (goal >= 90%) and the sandbox's 429 count (goal 0);
3. in-flight limit: sandbox and client at 3 in flight, 50 ms injected latency, 12 threads for
   5 s: 429s (goal 0), the sandbox's peak concurrency, and requests/s against the 60/s ceiling.

Run: `.venv/bin/python -m bench client` from the checkout.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from redis import Redis

from core.config import Settings
from core.crypto import TokenVault
from core.crypto import new_key
from core.db import Base
from core.db import make_engine
from core.db import session_factory
from core.models.company import Company
from core.qbo.client import QboClient
from core.qbo.custody import TokenManager
from core.qbo.errors import Throttled
from core.qbo.oauth_config import OAuthConfig
from core.qbo.throttle import Limits
from core.qbo.throttle import RealmThrottle
from costbridge_testing.sandbox import Control
from costbridge_testing.sandbox import connect_company
from costbridge_testing.sandbox import sandbox_settings
from costbridge_testing.sandbox import start_sandbox

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _hammer(
    client: QboClient, threads: int, seconds: float, throttle: RealmThrottle | None = None
) -> tuple[int, int, float]:
    """Call company_info from `threads` threads until `seconds` pass; (ok, gave_up, elapsed).

    With `throttle`, callers wait at most until the run ends instead of waiting out a window.
    """
    deadline = time.monotonic() + seconds
    counts = {"ok": 0, "gave_up": 0}
    lock = threading.Lock()

    def work() -> None:
        while time.monotonic() < deadline:
            if throttle is not None:
                throttle.max_wait = max(0.05, deadline - time.monotonic())
            try:
                client.company_info()
                key = "ok"
            except Throttled as exc:
                if exc.status is not None:  # a real 429 that outlasted the client's patience
                    raise
                key = "gave_up"  # our throttle would have waited past the end of the run
            with lock:
                counts[key] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return counts["ok"], counts["gave_up"], time.monotonic() - started


def _client(
    realm: str, tokens: TokenManager, base: str, throttle: RealmThrottle | None
) -> QboClient:
    return QboClient(realm, tokens, base_url=base, throttle=throttle, throttle_wait=1.0)


def main() -> None:
    """Print the figures of the three phases."""
    server = start_sandbox(seed="none")
    redis = Redis.from_url(REDIS_URL)
    ctl = Control(server.url)
    with tempfile.TemporaryDirectory() as tmp:
        settings = sandbox_settings(
            Settings.from_env(
                {
                    "COSTBRIDGE_ENV": "test",
                    "COSTBRIDGE_INSTANCE": tmp,
                    "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
                    "REDIS_URL": REDIS_URL,
                    "TOKEN_ENCRYPTION_KEY": new_key(),
                }
            ),
            server.url,
        )
        engine = make_engine(settings.database_url)
        Base.metadata.create_all(engine)
        sessions = session_factory(engine)
        with sessions() as s:
            company = Company(name="Bench Builders")
            s.add(company)
            s.commit()
            company_id = company.id
        realm = ctl.seed("empty")
        connect_company(settings, sessions, company_id, realm_hint=realm)
        tokens = TokenManager(
            sessions, redis, TokenVault(settings.token_keys), OAuthConfig.from_settings(settings)
        )
        keys = RealmThrottle.keys(realm).values()
        try:
            _phase_unthrottled(ctl, realm, tokens, server.url, redis)
            redis.delete(*keys)
            _phase_per_minute(ctl, realm, tokens, server.url, redis)
            redis.delete(*keys)
            _phase_in_flight(ctl, realm, tokens, server.url, redis)
        finally:
            redis.delete(*keys, tokens.lock_key(realm))
            redis.close()
            engine.dispose()
            server.stop()


def _phase_unthrottled(
    ctl: Control, realm: str, tokens: TokenManager, base: str, redis: Redis
) -> None:
    ctl.throttle(enabled=False, reset=True)
    client = _client(realm, tokens, base, None)
    client.company_info()  # warm: token cached, connection open
    for threads in (1, 8):
        ok, _, elapsed = _hammer(client, threads, 5.0)
        print(
            f"   throttles off, {threads} thread(s): {ok / elapsed:8.1f} requests/s "
            f"({ok} in {elapsed:.1f} s)"
        )
    big = Limits(per_minute=10**7, in_flight=1000, batch_per_minute=10**6)
    throttled = _client(realm, tokens, base, RealmThrottle(redis, big))
    ok, _, elapsed = _hammer(throttled, 8, 5.0)
    print(f"   Redis throttle on, limits out of reach, 8 threads: {ok / elapsed:8.1f} requests/s")


def _phase_per_minute(
    ctl: Control, realm: str, tokens: TokenManager, base: str, redis: Redis
) -> None:
    limit, seconds = 120, 30.0
    ctl.throttle(per_minute=limit, concurrent=4, batch_per_minute=40, enabled=True, reset=True)
    throttle = RealmThrottle(redis, Limits(per_minute=limit, in_flight=4))
    client = _client(realm, tokens, base, throttle)
    ok, _, _ = _hammer(client, 8, seconds, throttle)
    stats = ctl.throttle_stats()["realms"].get(realm, {})
    print(
        f"   {limit}/min for {seconds:.0f} s, 8 threads: sent {ok} = {100 * ok / limit:.1f}% of "
        f"the limit, 429s={stats.get('throttled', 0)}, peak in flight={stats.get('max_concurrent')}"
    )


def _phase_in_flight(
    ctl: Control, realm: str, tokens: TokenManager, base: str, redis: Redis
) -> None:
    ctl.throttle(per_minute=100_000, concurrent=3, enabled=True, reset=True)
    ctl.faults(latency_ms=50)
    client = _client(
        realm, tokens, base, RealmThrottle(redis, Limits(per_minute=100_000, in_flight=3))
    )
    ok, _, elapsed = _hammer(client, 12, 5.0)
    stats: dict[str, Any] = ctl.throttle_stats()["realms"].get(realm, {})
    ctl.clear_faults()
    print(
        f"   3 in flight, 50 ms latency, 12 threads: {ok / elapsed:.1f} requests/s "
        f"(ceiling 60/s: {100 * ok / elapsed / 60:.0f}%), 429s={stats.get('throttled', 0)}, "
        f"peak in flight={stats.get('max_concurrent')}"
    )


if __name__ == "__main__":
    main()
