"""Pytest fixtures and contract tests for costbridge and its plugin authors.

Shipped as a `pytest11` entry point, so a plugin's own test suite gets `db`, `committed_db`,
`redis_conn`, `runtime`, `app`, `client`, `sandbox` and `project_hooks` by installing
costbridge, and can check itself with `plugin_contract_tests`. Everything runs against real
services: PostgreSQL at `COSTBRIDGE_TEST_DATABASE_URL` (else `DATABASE_URL` when it names
PostgreSQL, else `postgresql://postgres@127.0.0.1:5432/test`), in a private schema per test
session, and Redis at `COSTBRIDGE_TEST_REDIS_URL` (else a database the session claims for
itself), flushed around each test.
"""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core import hookspecs
from core import migrate
from core.config import Settings
from core.contracts import PluginInfo
from core.db import make_engine
from core.plugins import PluginManager
from core.plugins import ProjectHooks
from core.plugins import make_plugin_manager
from core.runtime import Runtime

TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
TEST_REDIS_BASE = "redis://127.0.0.1:6379"
#: Databases test sessions take turns on (13 and 14 are the benchmarks'; 0 is the app's).
TEST_REDIS_DBS = (15, 12, 11, 10)
REDIS_REGISTRY_DB = 9
# Fixed, valid Fernet key for tests only; production keys come from the environment.
TEST_TOKEN_KEY = "dGVzdC1rZXktZm9yLWNvc3RicmlkZ2UtdGVzdHMtMDE="  # noqa: S105 - tests only


def _postgres_url_from_env() -> str:
    """`DATABASE_URL` when it names PostgreSQL (tests make a private schema there), else ours."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else TEST_DATABASE_URL


def private_schema_url(base_url: str, schema: str) -> str:
    """`base_url` with psycopg told to use `schema` first on every connection."""
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated private PostgreSQL schema for this test session, dropped afterwards."""
    base = os.environ.get("COSTBRIDGE_TEST_DATABASE_URL") or _postgres_url_from_env()
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


def truncate_all(engine: Engine) -> None:
    """Empty every costbridge table, restarting ids."""
    from core.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database this test session has to itself (never the app's database 0).

    `COSTBRIDGE_TEST_REDIS_URL` names one outright. Otherwise the session claims the first free
    database of `TEST_REDIS_DBS` through a lease key in `REDIS_REGISTRY_DB` (which tests never
    flush), so two test runs on one machine do not flush each other's queues and throttles.
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
        if registry.get(_lease(claimed)) == owner.encode():
            registry.delete(_lease(claimed))
        registry.close()


def claim_redis_db(registry: Any, owner: str) -> int | None:
    """Lease the first free test database for `owner` (for 6 hours at most); None if all taken."""
    return next(
        (n for n in TEST_REDIS_DBS if registry.set(_lease(n), owner, nx=True, ex=6 * 3600)),
        None,
    )


def _lease(db_index: int) -> str:
    return f"costbridge:test-redis-db:{db_index}"


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[Any]:
    """A real Redis connection, its database flushed before and after the test."""
    from redis import Redis

    conn = Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    """Settings for tests: the private schema, the test Redis, a temporary instance folder."""
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
def pm() -> PluginManager:
    """A fresh plugin manager with every installed plugin."""
    return make_plugin_manager()


@pytest.fixture
def runtime(settings: Settings, engine: Engine, pm: PluginManager) -> Iterator[Runtime]:
    """A runtime on the test database and Redis, installed for jobs run in this process."""
    from core import runtime as runtime_mod

    rt = Runtime(settings=settings, engine=engine, pm=pm)
    runtime_mod.install(rt)
    yield rt
    runtime_mod.install(None)


@contextmanager
def web_app(runtime: Runtime, **config: Any) -> Iterator[Any]:
    """A web app on `runtime` (Flask config keys in `config`), closed again on exit."""
    from core.app import create_app

    web = create_app({"runtime": runtime, "TESTING": True, **config})
    try:
        yield web
    finally:
        dispose_app(web)


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Any]:
    """The web app, on the test runtime; its database connections are closed afterwards."""
    with web_app(runtime) as web:
        yield web


def dispose_app(web: Any) -> None:
    """Close the connection pools Flask-SQLAlchemy opened for `web`."""
    with web.app_context():
        for eng in web.extensions["sqlalchemy"].engines.values():
            eng.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    """Flask's test client for `app`."""
    return app.test_client()


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """The QBO sandbox with an empty company, on a free loopback port, over real HTTP."""
    from sandbox import SandboxServer

    with SandboxServer(port=0, seed="empty") as server:
        yield server


@pytest.fixture
def project_hooks(pm: PluginManager) -> Callable[..., ProjectHooks]:
    """Build the hooks of a project that has only the named plugins enabled."""

    def build(*enabled: str) -> ProjectHooks:
        return ProjectHooks(pm, enabled or None)

    return build


def plugin_contract_tests(module: ModuleType, name: str) -> type:
    """A test class checking that `module` is a well-formed costbridge plugin named `name`.

    Use it in a plugin's test suite: `TestContract = plugin_contract_tests(my_plugin, "my_plugin")`.
    """
    spec_names = {
        n
        for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(f, "costbridge_spec")
    }

    class PluginContract:
        def test_registers_without_unknown_hooks(self) -> None:
            manager = make_plugin_manager(entry_points=False, extra=[(name, module)])
            assert manager.load_failures == []
            assert manager.get_plugin(name) is module

        def test_hookimpls_match_specs(self) -> None:
            impls = {
                n for n, f in inspect.getmembers(module, callable) if hasattr(f, "costbridge_impl")
            }
            assert impls, "the plugin implements no hook"
            assert impls <= spec_names, f"unknown hooks: {sorted(impls - spec_names)}"

        def test_plugin_info_describes_it(self) -> None:
            info = module.plugin_info()
            assert isinstance(info, PluginInfo)
            assert info.name == name
            assert info.label

        def test_settings_have_unique_keys_and_valid_defaults(self) -> None:
            info = module.plugin_info()
            keys = [s.key for s in info.settings]
            assert len(keys) == len(set(keys))
            for spec in info.settings:
                assert spec.label, f"{spec.key} needs a label"
                assert spec.help, f"{spec.key} needs help text"
                assert spec.accepts(spec.default), (
                    f"{spec.key}: default {spec.default!r} is not a {spec.type}"
                )

    PluginContract.__name__ = f"Test{name.title().replace('_', '')}Contract"
    return PluginContract
