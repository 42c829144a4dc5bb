"""What a process needs to do costbridge work: settings, database, plugins, Redis.

The web app keeps its runtime in `app.extensions["costbridge"]`; a worker builds one at start
and installs it for the jobs it runs (`install`); tests build their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from core.config import Settings
from core.db import make_engine
from core.db import session_factory
from core.namespace import InstallRedis
from core.namespace import read_install_id
from core.plugins import PluginManager
from core.plugins import make_plugin_manager

if TYPE_CHECKING:
    from core.qbo.custody import TokenManager

#: Seconds a new Redis connection may take to open.
REDIS_CONNECT_TIMEOUT = 5.0


@dataclass
class Runtime:
    """Settings plus the shared resources built from them."""

    settings: Settings
    engine: Engine
    pm: PluginManager
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        """Sessions come from the runtime's engine."""
        self.sessions = session_factory(self.engine)

    @classmethod
    def build(
        cls, settings: Settings, *, engine: Engine | None = None, pm: PluginManager | None = None
    ) -> Runtime:
        """A runtime for `settings`, reusing an engine or plugin manager when given."""
        return cls(
            settings=settings,
            engine=engine or make_engine(settings.database_url),
            pm=pm or make_plugin_manager(),
        )

    def close(self) -> None:
        """Release the database pool and, if one was opened, the Redis connection."""
        self.engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()

    @cached_property
    def qbo_tokens(self) -> TokenManager:
        """The process's QBO token custody (one per runtime, so its token cache is shared)."""
        from core.qbo import token_manager

        return token_manager(self)

    @cached_property
    def install_id(self) -> str:
        """This database's install id, read once (every job id and Redis key carries it)."""
        return read_install_id(self.engine)

    @cached_property
    def redis(self) -> InstallRedis:
        """The Redis connection for queues, locks and throttles (bytes in, bytes out).

        It names costbridge's keys under this runtime's install id (`core.namespace`). A
        connection attempt gives up after `REDIS_CONNECT_TIMEOUT` seconds, so an unreachable
        Redis is reported (and waited for, by a worker) instead of hanging in `connect`.
        """
        return InstallRedis.open(
            self.settings.redis_url,
            lambda: self.install_id,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        )


_installed: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    """Make `runtime` the one jobs in this process use (a worker calls this at start)."""
    global _installed  # noqa: PLW0603 - one runtime per worker process, set once at start
    _installed = runtime


def installed() -> Runtime | None:
    """The runtime `install` set in this process, if any (nothing is built)."""
    return _installed


def current() -> Runtime:
    """The installed runtime, or one built from the environment on first use."""
    global _installed  # noqa: PLW0603
    if _installed is None:
        _installed = Runtime.build(Settings.from_env())
    return _installed
