"""`costbridge status`: is this install ready, and how is each company's QuickBooks link?"""

from __future__ import annotations

import sys
from typing import Any

import click

from core.cli.common import JSON
from core.cli.common import dump
from core.config import Settings
from core.errors import ConfigError

__all__ = ["status"]


@click.command()
@JSON
def status(as_json: bool) -> None:
    """Database, migrations and Redis, then each company's QuickBooks connection and last sync.

    Exits 1 when a part is not ready (like `GET /readyz` answering 503).
    """
    from core import health
    from core.runtime import Runtime

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        click.echo(f"costbridge: {exc.message}", err=True)
        sys.exit(2)
    rt = Runtime.build(settings)
    try:
        checks = health.readiness(rt)
        database_ok = all(c.ok for c in checks if c.part == "database")
        companies = health.companies(rt) if database_ok else []
    finally:
        rt.close()
    ready = all(c.ok for c in checks)
    if as_json:
        body: dict[str, Any] = {
            "ready": ready,
            "checks": {c.part: {"ok": c.ok, "reason": c.reason} for c in checks},
            "companies": [
                {
                    "id": c.id,
                    "name": c.name,
                    "connection": c.connection,
                    "realm_id": c.realm_id,
                    "last_sync_at": c.last_sync_at.isoformat() if c.last_sync_at else None,
                    "last_sync_kind": c.last_sync_kind,
                    "last_sync_state": c.last_sync_state,
                }
                for c in companies
            ],
        }
        dump(body)
    else:
        for check in checks:
            words = "ok" if check.ok else f"FAILING: {check.reason}"
            click.echo(f"{check.part:<11} {words}")
        if not database_ok:
            click.echo("companies   not listed: the database is unreachable")
        elif not companies:
            click.echo("companies   none yet")
        for c in companies:
            last = (
                f"last sync {c.last_sync_at:%Y-%m-%d %H:%M:%S} UTC ({c.last_sync_kind}, "
                f"{c.last_sync_state})"
                if c.last_sync_at
                else "never synced"
            )
            realm = f" realm {c.realm_id}" if c.realm_id else ""
            click.echo(f"company {c.id:<3} {c.name}: QuickBooks {c.connection}{realm}; {last}")
    sys.exit(0 if ready else 1)
