"""The `costbridge` command group that turns a known failure into one line, not a traceback.

A database or Redis that cannot be reached, an SQLite file whose folder is missing, or a
configuration mistake found late (`keys rotate` with no key) each print one line naming what
is wrong and exit non-zero. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError

from core.errors import ConfigError
from core.errors import CostbridgeError

__all__ = ["OneLineGroup", "one_line", "say"]


def say(message: str) -> None:
    """Print each line of `message` as its own `costbridge:` line on stderr."""
    for line in message.splitlines() or [message]:
        click.echo(f"costbridge: {line}", err=True)


def one_line(exc: BaseException, database_url: str | None = None) -> str | None:
    """The line for a failure costbridge knows, or None for a bug (keep the traceback)."""
    if isinstance(exc, ConfigError | CostbridgeError):
        return exc.message
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return f"cannot reach Redis (REDIS_URL): {str(exc).splitlines()[0][:200]}"
    if isinstance(exc, OperationalError | InterfaceError):
        folder = _missing_sqlite_folder(database_url)
        if folder is not None:
            return f"the SQLite database's folder {folder} does not exist (DATABASE_URL)."
        detail = str(exc.orig or exc).strip().splitlines()
        first = detail[0] if detail else type(exc).__name__
        return f"cannot reach the database (DATABASE_URL): {first[:200]}"
    return None


def _missing_sqlite_folder(url: str | None) -> Path | None:
    if not url or not url.startswith("sqlite"):
        return None
    try:
        database = make_url(url).database
    except ArgumentError:
        return None
    if not database or database == ":memory:":
        return None
    folder = Path(database).parent
    return None if folder.is_dir() else folder


class OneLineGroup(click.Group):
    """A click group whose commands fail in one line on known failures."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a known failure prints one line and exits 1."""
        try:
            return super().invoke(ctx)
        except (
            CostbridgeError,
            RedisConnectionError,
            RedisTimeoutError,
            OperationalError,
            InterfaceError,
        ) as exc:
            line = one_line(exc, _database_url())
            if line is None:  # pragma: no cover - every caught type has words
                raise
            say(line)
            sys.exit(2 if isinstance(exc, ConfigError) else 1)


def _database_url() -> str | None:
    from core.config import Settings

    try:
        return Settings.from_env().database_url
    except ConfigError:
        return None
