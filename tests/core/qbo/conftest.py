"""Fixtures for the QBO client tests: one sandbox per session, a connected company per test.

Built on the shared fixtures of `core.testing` (`settings`, `engine`, `committed_db`,
`redis_conn`); the company is committed because token custody opens its own sessions.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core import runtime as runtime_mod
from core.config import Settings
from core.crypto import TokenVault
from core.models.company import Company
from core.plugins import PluginManager
from core.qbo.client import QboClient
from core.qbo.testing import Control
from core.qbo.testing import connect_company
from core.qbo.testing import sandbox_settings
from core.qbo.testing import start_sandbox
from core.qbo.throttle import Limits
from core.qbo.throttle import RealmThrottle
from core.qbo.tokens import OAuthConfig
from core.qbo.tokens import TokenManager
from core.runtime import Runtime


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    """The sandbox over real HTTP on a free loopback port."""
    server = start_sandbox(seed="none")
    yield server
    server.stop()


@pytest.fixture
def control(sandbox: Any) -> Iterator[Control]:
    """The sandbox's control API; faults cleared and throttle usage forgotten around each test."""
    ctl = Control(sandbox.url)
    ctl.clear_faults()
    ctl.throttle(per_minute=500, concurrent=10, batch_per_minute=40, enabled=True, reset=True)
    yield ctl
    ctl.clear_faults()
    ctl.throttle(per_minute=500, concurrent=10, batch_per_minute=40, enabled=True, reset=True)


@pytest.fixture
def qbo_settings(settings: Settings, sandbox: Any) -> Settings:
    """Test settings pointed at the sandbox."""
    return sandbox_settings(settings, sandbox.url)


@pytest.fixture
def qbo_runtime(
    qbo_settings: Settings, engine: Engine, pm: PluginManager, redis_conn: Any
) -> Iterator[Runtime]:
    """A runtime on the test database, the test Redis (flushed) and the sandbox."""
    rt = Runtime(settings=qbo_settings, engine=engine, pm=pm)
    runtime_mod.install(rt)
    yield rt
    runtime_mod.install(None)
    rt.redis.close()


@pytest.fixture
def company(committed_db: Session) -> Company:
    """A committed, not yet connected company (tables are truncated after the test)."""
    row = Company(name="Ridgeline Builders")
    committed_db.add(row)
    committed_db.commit()
    return row


@pytest.fixture
def realm_id(qbo_runtime: Runtime, company: Company, control: Control) -> str:
    """A fresh sandbox company (minimal chart of accounts) connected through real OAuth."""
    hint = str(random.randrange(10**15, 10**16))
    control.seed("empty", realm_id=hint)
    return connect_company(qbo_runtime.settings, qbo_runtime.sessions, company.id, realm_hint=hint)


@pytest.fixture
def tokens(qbo_runtime: Runtime) -> TokenManager:
    """Token custody for the test runtime."""
    return TokenManager(
        qbo_runtime.sessions, qbo_runtime.redis, TokenVault(qbo_runtime.settings.token_keys),
        OAuthConfig.from_settings(qbo_runtime.settings),
    )


class RecordingSession(requests.Session):
    """A requests session that notes each request's method, URL, params and timing."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        import time

        entry: dict[str, Any] = {"method": method, "url": url, "params": dict(kwargs.get("params") or {}),
                                 "headers": dict(kwargs.get("headers") or {}), "sent": time.monotonic()}
        self.calls.append(entry)
        try:
            resp = super().request(method, url, *args, **kwargs)
        except Exception as exc:
            entry["error"] = type(exc).__name__
            entry["received"] = time.monotonic()
            raise
        entry["status"] = resp.status_code
        entry["received"] = time.monotonic()
        return resp


@pytest.fixture
def http() -> RecordingSession:
    """A recording requests session."""
    return RecordingSession()


@pytest.fixture
def client(qbo_runtime: Runtime, realm_id: str, tokens: TokenManager, http: RecordingSession) -> QboClient:
    """A throttled client for the connected realm; backoff sleeps shortened for tests."""
    return QboClient(
        realm_id, tokens, base_url=qbo_runtime.settings.qbo_api_base,
        minor_version=qbo_runtime.settings.qbo_minor_version,
        throttle=RealmThrottle(qbo_runtime.redis, Limits.from_settings(qbo_runtime.settings)),
        http=http, throttle_wait=0.2,
    )


def ensure_vendor(client: QboClient, name: str) -> dict[str, Any]:
    """Create a vendor named `name`."""
    return client.create("Vendor", {"DisplayName": name})


def expense_account(client: QboClient) -> str:
    """The id of some Cost of Goods Sold account in the realm's chart."""
    rows = client.query("SELECT * FROM Account WHERE AccountType = 'Cost of Goods Sold' MAXRESULTS 1")
    return str(rows["Account"][0]["Id"])
