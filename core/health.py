"""Is this deployment ready? The checks behind `/readyz` and `costbridge status`.

Each check answers `ok` and a short reason that names the part and never carries a URL, a
password or a token: the reason is served to anyone who can reach `/readyz`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import select

if TYPE_CHECKING:
    from core.runtime import Runtime

__all__ = ["Check", "CompanyState", "companies", "readiness"]

#: Seconds a readiness probe waits for Redis before calling it unreachable.
REDIS_TIMEOUT = 2.0


@dataclass(frozen=True)
class Check:
    """One part of readiness: its name, whether it is fine, and why not."""

    part: str
    ok: bool
    reason: str = ""


def readiness(runtime: Runtime) -> list[Check]:
    """Check the database (reachable, migrated to head) and Redis (answers PING)."""
    return [*_database(runtime.engine), _redis(runtime.settings.redis_url)]


def _database(engine: Engine) -> list[Check]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from core.migrate import alembic_config

    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # any failure to connect or read means "not reachable"
        return [
            Check("database", False, f"database unreachable ({type(exc).__name__})"),
            Check("migrations", False, "not checked: the database is unreachable"),
        ]
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    if current != heads:
        have = ", ".join(sorted(current)) or "none"
        return [
            Check("database", True),
            Check(
                "migrations",
                False,
                f"schema at {have}, code expects {', '.join(sorted(heads))}: "
                "run `costbridge db upgrade`",
            ),
        ]
    return [Check("database", True), Check("migrations", True)]


def _redis(url: str) -> Check:
    client = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
    try:
        client.ping()
    except Exception as exc:  # refused, timed out, auth: all "not reachable" to the probe
        return Check("redis", False, f"redis unreachable ({type(exc).__name__})")
    finally:
        client.close()
    return Check("redis", True)


@dataclass(frozen=True)
class CompanyState:
    """One company's QuickBooks connection and its latest finished sync run."""

    id: int
    name: str
    connection: str
    realm_id: str | None
    last_sync_at: dt.datetime | None
    last_sync_kind: str | None
    last_sync_state: str | None


def companies(runtime: Runtime) -> list[CompanyState]:
    """Every company with its connection state and latest finished sync run."""
    from core.models import Company
    from core.models import SyncRun

    latest = (
        select(SyncRun.company_id, func.max(SyncRun.finished_at).label("at"))
        .where(SyncRun.finished_at.is_not(None))
        .group_by(SyncRun.company_id)
        .subquery()
    )
    with runtime.sessions() as session:
        rows = session.execute(
            select(Company, SyncRun)
            .outerjoin(latest, latest.c.company_id == Company.id)
            .outerjoin(
                SyncRun,
                (SyncRun.company_id == Company.id) & (SyncRun.finished_at == latest.c.at),
            )
            .order_by(Company.id, SyncRun.id.desc())
        ).all()
    seen: dict[int, CompanyState] = {}
    for company, run in rows:
        if company.id in seen:
            continue
        seen[company.id] = CompanyState(
            id=company.id,
            name=company.name,
            connection=company.connection_status.value,
            realm_id=company.realm_id,
            last_sync_at=run.finished_at if run else None,
            last_sync_kind=run.kind if run else None,
            last_sync_state=run.state.value if run else None,
        )
    return list(seen.values())
