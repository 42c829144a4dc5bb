"""Pytest fixtures for tests that need the sandbox and a connected company.

Import the ones you need into a conftest or test module (`from core.qbo.fixtures import
sandbox_fixture, ...`; each registers under its name without `_fixture`); they build on
`core.testing`'s
`settings`, `engine`, `pm`, `committed_db` and `redis_conn`. The company is committed because
token custody opens its own sessions.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core import runtime as runtime_mod
from core.config import Settings
from core.crypto import TokenVault
from core.models.company import Company
from core.plugins import PluginManager
from core.qbo.testing import Control
from core.qbo.testing import connect_company
from core.qbo.testing import sandbox_settings
from core.qbo.testing import start_sandbox
from core.qbo.tokens import OAuthConfig
from core.qbo.tokens import TokenManager
from core.runtime import Runtime

__all__ = [
    "company_fixture",
    "control_fixture",
    "qbo_runtime_fixture",
    "qbo_settings_fixture",
    "realm_id_fixture",
    "sandbox_fixture",
    "tokens_fixture",
]


@pytest.fixture(name="sandbox", scope="session")
def sandbox_fixture() -> Iterator[Any]:
    """The sandbox over real HTTP on a free loopback port."""
    server = start_sandbox(seed="none")
    yield server
    server.stop()


@pytest.fixture(name="control")
def control_fixture(sandbox: Any) -> Iterator[Control]:
    """The sandbox's control API; faults cleared and throttle usage forgotten around each test."""
    ctl = Control(sandbox.url)
    ctl.clear_faults()
    ctl.throttle(per_minute=500, concurrent=10, batch_per_minute=40, enabled=True, reset=True)
    yield ctl
    ctl.clear_faults()
    ctl.throttle(per_minute=500, concurrent=10, batch_per_minute=40, enabled=True, reset=True)


@pytest.fixture(name="qbo_settings")
def qbo_settings_fixture(settings: Settings, sandbox: Any) -> Settings:
    """Test settings pointed at the sandbox."""
    return sandbox_settings(settings, sandbox.url)


@pytest.fixture(name="qbo_runtime")
def qbo_runtime_fixture(
    qbo_settings: Settings, engine: Engine, pm: PluginManager, redis_conn: Any
) -> Iterator[Runtime]:
    """A runtime on the test database, the test Redis (flushed) and the sandbox."""
    rt = Runtime(settings=qbo_settings, engine=engine, pm=pm)
    runtime_mod.install(rt)
    yield rt
    runtime_mod.install(None)
    rt.redis.close()


@pytest.fixture(name="company")
def company_fixture(committed_db: Session) -> Company:
    """A committed, not yet connected company (tables are truncated after the test)."""
    row = Company(name="Ridgeline Builders")
    committed_db.add(row)
    committed_db.commit()
    return row


@pytest.fixture(name="realm_id")
def realm_id_fixture(qbo_runtime: Runtime, company: Company, control: Control) -> str:
    """A fresh sandbox company (minimal chart of accounts) connected through real OAuth."""
    hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id, not a secret
    control.seed("empty", realm_id=hint)
    return connect_company(qbo_runtime.settings, qbo_runtime.sessions, company.id, realm_hint=hint)


@pytest.fixture(name="tokens")
def tokens_fixture(qbo_runtime: Runtime) -> TokenManager:
    """Token custody for the test runtime."""
    return TokenManager(
        qbo_runtime.sessions,
        qbo_runtime.redis,
        TokenVault(qbo_runtime.settings.token_keys),
        OAuthConfig.from_settings(qbo_runtime.settings),
    )
