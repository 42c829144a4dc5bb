"""Pytest fixtures for costbridge and its plugin authors (the `pytest11` entry point).

Everything runs against real services (see `costbridge_testing.services`): a private PostgreSQL
schema per test session, a Redis database of its own, and the QBO sandbox over HTTP.

Database and web: `database_url`, `engine`, `db` (rolled back), `committed_db` (truncated
after), `redis_url`, `redis_conn`, `settings`, `pm`, `runtime`, `app`, `web_client` (signed in),
`project_hooks`. On SQLite too, the demo's database: `sqlite_runtime`, and `any_runtime`, which
runs a test once on each database. QuickBooks: `qbo_sandbox`, `sandbox_control`,
`qbo_settings`, `qbo_runtime`, `company`, `realm_id`, `token_manager`, `project_factory`.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.orm import Session

from core import migrate
from core import runtime as runtime_mod
from core.config import Settings
from core.crypto import TokenVault
from core.db import make_engine
from core.models import Company
from core.models import Project
from core.plugins import PluginManager
from core.plugins import ProjectHooks
from core.plugins import make_plugin_manager
from core.project_settings import save_settings
from core.qbo.custody import TokenManager
from core.qbo.oauth_config import OAuthConfig
from core.runtime import Runtime
from costbridge_testing.sandbox import Control
from costbridge_testing.sandbox import connect_company
from costbridge_testing.sandbox import sandbox_settings
from costbridge_testing.sandbox import start_sandbox
from costbridge_testing.services import REDIS_REGISTRY_DB
from costbridge_testing.services import TEST_REDIS_BASE
from costbridge_testing.services import TEST_TOKEN_KEY
from costbridge_testing.services import claim_redis_db
from costbridge_testing.services import postgres_url_from_env
from costbridge_testing.services import private_schema_url
from costbridge_testing.services import redis_lease
from costbridge_testing.services import truncate_all
from costbridge_testing.services import web_app

# -- database and Redis -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated private PostgreSQL schema for this test session, dropped afterwards."""
    base = postgres_url_from_env()
    schema = f"cbt_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(private_schema_url(base, "public"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = private_schema_url(base, schema)
    try:
        migrator = make_engine(url)
        with migrator.begin() as conn:
            migrate.upgrade(connection=conn)
        migrator.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The session's engine on the private schema."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def committed_db(engine: Engine) -> Iterator[Session]:
    """A session whose commits are real (for workers and servers on other connections).

    Every table is truncated afterwards.
    """
    session = Session(bind=engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        truncate_all(engine)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database this test session has to itself (never the app's database 0).

    `COSTBRIDGE_TEST_REDIS_URL` names one outright. Otherwise the session leases the first free
    test database through a key in `REDIS_REGISTRY_DB` (which tests never flush), so two test
    runs on one machine do not flush each other's queues and throttles.
    """
    explicit = os.environ.get("COSTBRIDGE_TEST_REDIS_URL")
    if explicit:
        yield explicit
        return
    from redis import Redis

    registry = Redis.from_url(f"{TEST_REDIS_BASE}/{REDIS_REGISTRY_DB}")
    owner = f"{os.getpid()}-{uuid.uuid4().hex}"
    claimed = claim_redis_db(registry, owner)
    if claimed is None:
        registry.close()
        pytest.fail(
            "every test Redis database is in use by another test run; wait for it to finish or "
            "set COSTBRIDGE_TEST_REDIS_URL"
        )
    try:
        yield f"{TEST_REDIS_BASE}/{claimed}"
    finally:
        if registry.get(redis_lease(claimed)) == owner.encode():
            registry.delete(redis_lease(claimed))
        registry.close()


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[Any]:
    """A real Redis connection, its database flushed before and after the test."""
    from redis import Redis

    conn = Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


# -- settings, plugins, runtime, web ------------------------------------------------------------


def _test_settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "COSTBRIDGE_ENV": "test",
            "COSTBRIDGE_INSTANCE": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test-secret-key",
            "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY,
            "QBO_WEBHOOK_VERIFIER": "test-verifier-token",
        }
    )


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    """Settings for tests: the private schema, the test Redis, a temporary instance folder."""
    return _test_settings(database_url, redis_url, tmp_path)


@pytest.fixture
def pm() -> PluginManager:
    """A fresh plugin manager with every installed plugin."""
    return make_plugin_manager()


@pytest.fixture
def runtime(settings: Settings, engine: Engine, pm: PluginManager) -> Iterator[Runtime]:
    """A runtime on the test database and Redis, installed for jobs run in this process."""
    rt = Runtime(settings=settings, engine=engine, pm=pm)
    runtime_mod.install(rt)
    yield rt
    runtime_mod.install(None)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database file migrated once for the test session; tests get copies of it."""
    path = tmp_path_factory.mktemp("sqlite") / "costbridge.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_runtime(
    _migrated_sqlite: Path, redis_url: str, pm: PluginManager, tmp_path: Path
) -> Iterator[Runtime]:
    """`runtime` on SQLite, the demo's database: a fresh migrated file of the test's own."""
    path = tmp_path / "sqlite" / "costbridge.db"
    path.parent.mkdir()
    shutil.copyfile(_migrated_sqlite, path)
    rt = Runtime.build(_test_settings(f"sqlite:///{path}", redis_url, tmp_path), pm=pm)
    runtime_mod.install(rt)
    yield rt
    runtime_mod.install(None)
    rt.close()


@pytest.fixture(params=["postgresql", "sqlite"])
def any_runtime(request: pytest.FixtureRequest) -> Runtime:
    """`runtime` (its commits truncated afterwards, as `committed_db`'s), then `sqlite_runtime`.

    A test using it runs once on each database; whatever it commits is gone after it.
    """
    if request.param == "postgresql":
        request.getfixturevalue("committed_db")
    rt: Runtime = request.getfixturevalue(
        "runtime" if request.param == "postgresql" else "sqlite_runtime"
    )
    return rt


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Any]:
    """The web app, on the test runtime; its database connections are closed afterwards."""
    with web_app(runtime) as web:
        yield web


@pytest.fixture
def web_client(app: Any, runtime: Runtime) -> Iterator[Any]:
    """Flask's test client for `app`, signed in as a console admin (`app.test_client()` is not).

    The admin is removed afterwards.
    """
    from costbridge_testing.console import add_user
    from costbridge_testing.console import remove_user
    from costbridge_testing.console import sign_in

    user_id = add_user(runtime.sessions, f"admin-{uuid.uuid4().hex[:8]}@example.com")
    yield sign_in(app.test_client(), runtime.sessions, user_id)
    remove_user(runtime.sessions, user_id)


@pytest.fixture
def project_hooks(pm: PluginManager) -> Callable[..., ProjectHooks]:
    """Build the hooks of a project that has only the named plugins enabled."""

    def build(*enabled: str) -> ProjectHooks:
        return ProjectHooks(pm, enabled or None)

    return build


# -- QuickBooks: the sandbox and a connected company -------------------------------------------


@pytest.fixture(scope="session")
def qbo_sandbox() -> Iterator[Any]:
    """The QBO sandbox over real HTTP on a free loopback port, no company seeded.

    Costbridge's development OAuth client is registered; `realm_id` seeds a company per test.
    """
    server = start_sandbox(seed="none")
    yield server
    server.stop()


def _reset_control(ctl: Control) -> None:
    ctl.clear_faults()
    ctl.honour_request_ids(True)
    ctl.cap_query_pages(1000)
    ctl.throttle(per_minute=500, concurrent=10, batch_per_minute=40, enabled=True, reset=True)


@pytest.fixture
def sandbox_control(qbo_sandbox: Any) -> Iterator[Control]:
    """The sandbox's control API; faults cleared and throttle usage forgotten around each test."""
    ctl = Control(qbo_sandbox.url)
    _reset_control(ctl)
    yield ctl
    _reset_control(ctl)


@pytest.fixture
def qbo_settings(settings: Settings, qbo_sandbox: Any) -> Settings:
    """Test settings pointed at the sandbox."""
    return sandbox_settings(settings, qbo_sandbox.url)


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
def realm_id(qbo_runtime: Runtime, company: Company, sandbox_control: Control) -> str:
    """`company` connected through real OAuth to a fresh sandbox company (minimal chart)."""
    hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id, not a secret
    sandbox_control.seed("empty", realm_id=hint)
    return connect_company(qbo_runtime.settings, qbo_runtime.sessions, company.id, realm_hint=hint)


@pytest.fixture
def token_manager(qbo_runtime: Runtime) -> TokenManager:
    """Token custody for the test runtime."""
    return TokenManager(
        qbo_runtime.sessions,
        qbo_runtime.redis,
        TokenVault(qbo_runtime.settings.token_keys),
        OAuthConfig.from_settings(qbo_runtime.settings),
    )


@pytest.fixture
def project_factory(
    committed_db: Session, company: Company, pm: PluginManager
) -> Callable[..., Project]:
    """Make committed projects of `company`: `project_factory(settings, customer_id=...)`.

    `settings` (setting key to value) are checked and saved as an admin would; a problem fails
    the test. `customer_id` links the project to that QBO customer; `enabled_plugins` limits the
    plugins it uses (None: every installed plugin).
    """

    def make(
        settings: Mapping[str, Any] | None = None,
        *,
        customer_id: str | None = None,
        customer_name: str | None = None,
        enabled_plugins: list[str] | None = None,
        name: str = "Maple Street Remodel",
    ) -> Project:
        project = Project(
            company_id=company.id,
            name=name,
            qbo_customer_id=customer_id,
            qbo_customer_name=customer_name or (name if customer_id else None),
            enabled_plugins=enabled_plugins,
            settings={},
        )
        committed_db.add(project)
        committed_db.flush()
        problems = save_settings(pm, committed_db, project, settings or {}, changed_by="test")
        if problems:
            committed_db.rollback()
            pytest.fail(f"project_factory: settings refused: {problems}")
        committed_db.commit()
        return project

    return make
