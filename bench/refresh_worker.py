"""One process of the refresh race, shared by `bench refresh` and the token custody tests.

Importable by name (multiprocessing's spawn start method needs a module-level function).
"""

from __future__ import annotations

from typing import Any

from core.config import Settings
from core.crypto import TokenVault
from core.qbo.oauth_config import OAuthConfig


def refresh_race_worker(
    settings: Settings, realm_id: str, calls: int, barrier: Any, results: Any
) -> None:
    """One process of the refresh race (RELIABILITY.md §3 recipe 10).

    Builds its own engine, session factory, Redis connection, token custody and client, makes
    `calls` calls, waits at `barrier` (the parent expires the access tokens meanwhile), waits
    again, then makes `calls` more. Puts `{"ok": n, "errors": [...]}` on `results`.
    """
    from redis import Redis

    from core.db import make_engine
    from core.db import session_factory
    from core.qbo.client import QboClient
    from core.qbo.custody import TokenManager
    from core.qbo.throttle import Limits
    from core.qbo.throttle import RealmThrottle

    engine = make_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    ok, errors = 0, []
    try:
        tokens = TokenManager(
            session_factory(engine),
            redis,
            TokenVault(settings.token_keys),
            OAuthConfig.from_settings(settings),
        )
        client = QboClient(
            realm_id,
            tokens,
            base_url=settings.qbo_api_base,
            throttle=RealmThrottle(redis, Limits.from_settings(settings)),
        )
        for phase in range(2):
            barrier.wait(timeout=60)
            if phase == 1:
                barrier.wait(timeout=60)  # the parent expired the tokens between the two waits
            for _ in range(calls):
                try:
                    client.company_info()
                    ok += 1
                except Exception as exc:  # reported to the parent, which asserts none
                    errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        results.put({"ok": ok, "errors": errors})
        redis.close()
        engine.dispose()
