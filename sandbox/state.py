"""The emulator object (``Sandbox``): config, clock, components and the realms it hosts.

Each hosted company is a ``Realm`` (``sandbox.realm``), re-exported here for the modules and
tests that import it from this one.
"""

from __future__ import annotations

import collections
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sandbox import faults
from sandbox.clock import Clock
from sandbox.config import SandboxConfig
from sandbox.realm import Realm

if TYPE_CHECKING:
    from sandbox.chaos import Chaos
    from sandbox.oauth import OAuthServer
    from sandbox.throttle import Throttle
    from sandbox.webhooks import WebhookNotifier

__all__ = ["ChangeListener", "Realm", "Sandbox"]

ChangeListener = Callable[[str, str, str, str, datetime], None]
"""fn(realm_id, entity, entity_id, operation, last_updated)."""


class Sandbox:
    """One emulator: config, clock, components and the realms it hosts.

    Args:
        config: Settings; defaults to ``SandboxConfig()``.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        # Imported here: these modules import config/clock/faults, and some import this one.
        from sandbox.chaos import Chaos
        from sandbox.oauth import OAuthServer
        from sandbox.throttle import Throttle
        from sandbox.webhooks import WebhookNotifier

        self.config = config or SandboxConfig()
        self.clock = Clock(self.config.company_tz)
        # Request threads bump these concurrently, and Counter's `+=` is a read then a write:
        # go through count() and counters_snapshot(), which hold the lock.
        self.counters: collections.Counter[str] = collections.Counter()
        self._counters_lock = threading.Lock()
        self._realms: dict[str, Realm] = {}
        self._lock = threading.RLock()
        self._listeners: list[ChangeListener] = []
        # Set by the server once it listens; used to build absolute TempDownloadUri values.
        self.base_url = "http://127.0.0.1"
        # QBO's content negotiation (XML unless JSON is asked for); see api.wants_xml.
        self.xml_responses: bool = not self.config.lenient_json
        self.oauth: OAuthServer = OAuthServer(self)
        self.throttle: Throttle = Throttle(self)
        self.webhooks: WebhookNotifier = WebhookNotifier(self)
        self.chaos: Chaos = Chaos(self)
        # Tests of a client's own duplicate defences turn requestid replay off
        # (``/_sandbox/requestid``); QBO's retention window is undocumented (API.md §2.7).
        self.honour_request_ids = True
        # Most rows one query page returns, whatever MAXRESULTS asked for (a lower value
        # stands in for a server that cuts pages short; ``/_sandbox/query``).
        self.max_query_results = self.config.max_query_results
        # Every query statement received, newest last (``/_sandbox/queries``): lets a test
        # show that a client never sent a query Intuit would refuse.
        self.query_log: collections.deque[dict[str, Any]] = collections.deque(maxlen=20_000)
        self.add_change_listener(self.webhooks.notify)

    def realm(self, realm_id: str) -> Realm:
        """Return the realm or raise the 403 QBO answers for a company it does not know."""
        with self._lock:
            found = self._realms.get(str(realm_id))
        if found is None:
            raise faults.authorization_failure(f"Unknown company {realm_id}")
        return found

    def realms(self) -> list[Realm]:
        """All realms, in creation order."""
        with self._lock:
            return list(self._realms.values())

    def has_realm(self, realm_id: str) -> bool:
        """Whether ``realm_id`` is hosted here."""
        with self._lock:
            return str(realm_id) in self._realms

    def add_realm(
        self, realm_id: str | None = None, company_name: str = "Sandbox Company"
    ) -> Realm:
        """Create an empty company (CompanyInfo and Preferences only) and return it.

        Args:
            realm_id: Digits; a random 16-digit id when None. An existing realm is replaced.
            company_name: CompanyInfo.CompanyName and LegalName.
        """
        rid = str(realm_id) if realm_id else str(9_130_000_000_000_000 + secrets.randbelow(10**15))
        realm = Realm(self, rid, company_name)
        with self._lock:
            self._realms[rid] = realm
        return realm

    def reset(self) -> None:
        """Forget every realm, token, counter and injected fault; back to real time and the
        configured response format."""
        self.clock.reset()
        with self._lock:
            self._realms.clear()
        with self._counters_lock:
            self.counters.clear()
        self.oauth.reset()
        self.throttle.reset()
        self.webhooks.reset()
        self.chaos.clear()
        self.honour_request_ids = True
        self.xml_responses = not self.config.lenient_json
        self.max_query_results = self.config.max_query_results
        self.query_log.clear()

    def log_query(self, realm_id: str, text: str, refused: str | None) -> None:
        """Remember one query statement and, when it was refused, the Fault (code, detail)."""
        with self._counters_lock:
            self.query_log.append({"realm": realm_id, "query": text, "refused": refused})

    def queries(self, realm_id: str | None = None) -> list[dict[str, Any]]:
        """The logged query statements, oldest first; only one company's when given."""
        with self._counters_lock:
            return [q for q in self.query_log if realm_id is None or q["realm"] == realm_id]

    def count(self, key: str, n: int = 1) -> None:
        """Add ``n`` to counter ``key`` (thread-safe)."""
        with self._counters_lock:
            self.counters[key] += n

    def counters_snapshot(self) -> dict[str, int]:
        """A consistent copy of every counter."""
        with self._counters_lock:
            return dict(self.counters)

    def add_change_listener(self, fn: ChangeListener) -> None:
        """Call ``fn`` after every committed API change (not for seed inserts)."""
        self._listeners.append(fn)

    def remove_change_listener(self, fn: ChangeListener) -> None:
        """Stop calling ``fn`` (no error when it was not registered)."""
        if fn in self._listeners:
            self._listeners.remove(fn)

    def emit(
        self, realm_id: str, entity: str, entity_id: str, operation: str, at: datetime
    ) -> None:
        """Tell every listener about a change; a failing listener never fails the request."""
        for fn in list(self._listeners):
            try:
                fn(realm_id, entity, entity_id, operation, at)
            except Exception:  # noqa: BLE001, S112 - a listener's bug must not undo a write
                self.count("listener_errors")
