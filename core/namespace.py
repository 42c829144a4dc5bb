"""Names costbridge gives things in a shared Redis: each carries the install id.

Two installs on one Redis, or a database recreated (or restored) under a Redis that remembers
the old one, number their companies, runs and outbox rows from 1 alike. RQ keeps a finished job
for `result_ttl` and a failed one for weeks, so `pull-1-1` of the old database would refuse the
new one's first pull (`unique=True`) and its debounce flag would hold every request back. The
install id (12 hex characters, made once per database: migration 0009, table `install`) goes
into every RQ job id and every costbridge key, so nothing of another install is ever found.

- Keys: `costbridge:<install id>:<what>:<ids>`, e.g. `costbridge:3fa9c2e1d0b7:pull-pending:4`.
- Job ids: `<kind>-<install id>-<ids>`, e.g. `pull-3fa9c2e1d0b7-4-17` (RQ allows letters,
  digits, `_` and `-`).

`Runtime.redis` is an `InstallRedis`: code that is handed only the connection (the QBO
throttle, the token custody's refresh lock, the book-close cache) names its keys through it. A
plain `Redis` (a bench's or a test's own) belongs to no install and names keys without one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from core.db import utcnow
from core.models import Install

__all__ = ["InstallRedis", "install_id_of", "job_id", "key", "read_install_id", "redis_key"]

#: The one row of the `install` table.
INSTALL_ROW = 1
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def read_install_id(engine: Engine) -> str:
    """This database's install id, written now if the table has no row.

    Migration 0009 writes the row; a schema made by `create_all`, or one whose tables a test
    emptied, has none. Two processes may find it missing at once: each inserts row 1 only if
    absent and then reads what is there, so both get the same id.
    """
    query = select(Install.install_id).order_by(Install.id).limit(1)
    with engine.connect() as conn:
        found = conn.scalar(query)
    if found:
        return found
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with engine.begin() as conn:
        conn.execute(
            insert(Install)
            .values(id=INSTALL_ROW, install_id=secrets.token_hex(6), created_at=utcnow())
            .on_conflict_do_nothing(index_elements=[Install.id])
        )
        made = conn.scalar(query)
    assert made, "the install row was just written"
    return made


class InstallRedis(Redis):
    """`Runtime.redis`: a Redis connection that knows which install's keys it names.

    The id is asked of `bind_install`'s source when a key is first named (the runtime reads it
    from the database once), so opening the connection needs no database.
    """

    _install_source: Callable[[], str] | None = None

    @classmethod
    def open(cls, url: str, install_id: Callable[[], str], **kwargs: Any) -> InstallRedis:
        """A connection to `url` (redis-py's `from_url` options) naming keys under `install_id`."""
        conn = cls.from_url(url, **kwargs)
        assert isinstance(conn, cls)
        conn.bind_install(install_id)
        return conn

    def bind_install(self, source: Callable[[], str]) -> None:
        """Name keys under the install id `source` returns."""
        self._install_source = source

    @property
    def install_id(self) -> str | None:
        """The install this connection works for (None when unbound)."""
        return self._install_source() if self._install_source is not None else None


def install_id_of(redis: object) -> str | None:
    """The install id a connection names keys under; None for a plain `Redis`."""
    return redis.install_id if isinstance(redis, InstallRedis) else None


def key(install_id: str | None, *parts: object) -> str:
    """A costbridge Redis key: `costbridge:<install id>:<part>:<part>...`."""
    head = ["costbridge", install_id] if install_id else ["costbridge"]
    return ":".join([*head, *(str(p) for p in parts)])


def redis_key(redis: object, *parts: object) -> str:
    """`key` under the install of `redis` (see `install_id_of`)."""
    return key(install_id_of(redis), *parts)


def job_id(install_id: str, kind: str, *parts: object) -> str:
    """An RQ job id: `<kind>-<install id>-<part>-<part>...`.

    Raises:
        ValueError: A part holds a character RQ does not allow in a job id.
    """
    made = "-".join([kind, install_id, *(str(p) for p in parts)])
    if not _JOB_ID.match(made):
        raise ValueError(f"{made!r} is not a valid RQ job id (letters, digits, '_' and '-')")
    return made
