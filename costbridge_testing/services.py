"""The real services tests run against: a private PostgreSQL schema, a Redis database, a web app.

PostgreSQL is `COSTBRIDGE_TEST_DATABASE_URL`, else `DATABASE_URL` when it names PostgreSQL, else
`postgresql://postgres@127.0.0.1:5432/test`; each test session migrates a schema of its own
there. Redis is `COSTBRIDGE_TEST_REDIS_URL`, else a database the session leases for itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.runtime import Runtime

TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
TEST_REDIS_BASE = "redis://127.0.0.1:6379"
#: Databases test sessions take turns on (13 and 14 are the benchmarks'; 0 is the app's).
TEST_REDIS_DBS = (15, 12, 11, 10)
REDIS_REGISTRY_DB = 9
# Fixed, valid Fernet key for tests only; production keys come from the environment.
TEST_TOKEN_KEY = "dGVzdC1rZXktZm9yLWNvc3RicmlkZ2UtdGVzdHMtMDE="  # noqa: S105 - tests only


def postgres_url_from_env() -> str:
    """The PostgreSQL server tests use (they make a private schema there)."""
    explicit = os.environ.get("COSTBRIDGE_TEST_DATABASE_URL")
    if explicit:
        return explicit
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


def truncate_all(engine: Engine) -> None:
    """Empty every costbridge table, restarting ids."""
    from core.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def claim_redis_db(registry: Any, owner: str) -> int | None:
    """Lease the first free test database for `owner` (for 6 hours at most); None if all taken."""
    return next(
        (n for n in TEST_REDIS_DBS if registry.set(redis_lease(n), owner, nx=True, ex=6 * 3600)),
        None,
    )


def redis_lease(db_index: int) -> str:
    """The registry key holding the lease on test database `db_index`."""
    return f"costbridge:test-redis-db:{db_index}"


@contextmanager
def web_app(runtime: Runtime, **config: Any) -> Iterator[Any]:
    """A web app on `runtime` (Flask config keys in `config`), closed again on exit."""
    from core.app import create_app

    web = create_app({"runtime": runtime, "TESTING": True, **config})
    try:
        yield web
    finally:
        dispose_app(web)


def dispose_app(web: Any) -> None:
    """Close the connection pools Flask-SQLAlchemy opened for `web`."""
    with web.app_context():
        for eng in web.extensions["sqlalchemy"].engines.values():
            eng.dispose()


@contextmanager
def served_app(settings: Any, sandbox_url: str, engine: Engine, pm: Any) -> Iterator[Runtime]:
    """The real web app on a free loopback port, wired to the sandbox at `sandbox_url`.

    The runtime's redirect URI names the port, so the sandbox's consent page comes back to it;
    `runtime.settings.qbo_redirect_uri` tells where the app is (its base is everything before
    `/qbo/callback`). Installed as the process's runtime while the block runs.
    """
    import threading

    from werkzeug.serving import make_server

    from core import runtime as runtime_mod
    from core.app import create_app
    from costbridge_testing.sandbox import sandbox_settings

    holder: dict[str, Any] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}"
    from costbridge_testing.sandbox import Control

    Control(sandbox_url).register_redirect_uri(f"{base}/qbo/callback")
    rt = Runtime(
        settings=sandbox_settings(settings, sandbox_url, qbo_redirect_uri=f"{base}/qbo/callback"),
        engine=engine,
        pm=pm,
    )
    runtime_mod.install(rt)
    holder["app"] = create_app({"runtime": rt})
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield rt
    finally:
        server.shutdown()
        thread.join(5)
        dispose_app(holder["app"])
        runtime_mod.install(None)
        rt.redis.close()


def app_base(rt: Runtime) -> str:
    """Where `served_app` serves: the redirect URI less its path."""
    return rt.settings.qbo_redirect_uri.removesuffix("/qbo/callback")
