"""Per-realm request limits, as Intuit's gateway enforces them (API.md §9, §12 item 11).

Three limits apply to every ``/v3/company/<realm>/...`` request:

* requests per minute per realm (500; batch calls included),
* requests in flight at once per realm (10),
* batch calls per minute per realm (40).

Intuit does not say whether its minute is a fixed or a sliding window. The sandbox uses a
sliding 60-second window measured on the sandbox clock: it is the stricter reading (a client
that bursts 500 just before and 500 just after a minute boundary is refused), so a client that
stays under it also stays under a fixed window, and tests can open the window again by
advancing the clock. Refused requests do not count against the window; otherwise a client
that keeps retrying would never get back in.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from sandbox.chaos import sleep_pending_latency
from sandbox.faults import ThrottleFault

if TYPE_CHECKING:
    from sandbox.state import Sandbox

WINDOW = timedelta(seconds=60)


@dataclass
class _RealmUsage:
    """What one realm has used; guarded by the throttle's lock."""

    requests: deque[datetime] = field(default_factory=deque)
    batches: deque[datetime] = field(default_factory=deque)
    in_flight: int = 0
    max_concurrent: int = 0
    total: int = 0
    throttled: int = 0
    throttled_by: dict[str, int] = field(
        default_factory=lambda: {"per_minute": 0, "concurrent": 0, "batch_per_minute": 0}
    )


class Throttle:
    """Refuses requests over Intuit's per-realm limits with HTTP 429 (code 3001).

    Thread-safe: the sandbox server handles every request in its own thread.

    Args:
        sb: The sandbox; its config gives the starting limits and its clock the time (tests
            steer it, so a window can be ended by advancing the clock).
    """

    def __init__(self, sb: Sandbox) -> None:
        self._config = sb.config
        self._clock = sb.clock
        cfg = self._config
        self.per_minute: int = cfg.requests_per_minute
        self.concurrent: int = cfg.concurrent_requests
        self.batch_per_minute: int = cfg.batch_per_minute
        self.enabled: bool = cfg.throttle_enabled
        self._lock = threading.Lock()
        self._usage: dict[str, _RealmUsage] = {}

    def configure(
        self,
        per_minute: int | None = None,
        concurrent: int | None = None,
        batch_per_minute: int | None = None,
        enabled: bool | None = None,
        reset: bool = False,
    ) -> dict[str, Any]:
        """Change the limits; arguments left as None keep their value.

        Args:
            per_minute: Requests per realm in any 60-second window (Intuit: 500).
            concurrent: Requests per realm in flight at once (Intuit: 10).
            batch_per_minute: ``/batch`` calls per realm in any 60-second window (Intuit: 40).
            enabled: False lets everything through (usage is still counted).
            reset: Also forget the usage counted so far.

        Returns:
            The new :meth:`stats`.

        Raises:
            ValueError: A limit is not a positive integer.
        """
        for name, value in (
            ("per_minute", per_minute),
            ("concurrent", concurrent),
            ("batch_per_minute", batch_per_minute),
        ):
            # bool is an int subclass; a JSON `true` here is a caller mistake.
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        with self._lock:
            if per_minute is not None:
                self.per_minute = per_minute
            if concurrent is not None:
                self.concurrent = concurrent
            if batch_per_minute is not None:
                self.batch_per_minute = batch_per_minute
            if enabled is not None:
                self.enabled = bool(enabled)
            if reset:
                self._reset_usage()
        return self.stats()

    def reset(self) -> None:
        """Restore the configured defaults and forget all usage (``sb.reset()``)."""
        cfg = self._config
        with self._lock:
            self.per_minute = cfg.requests_per_minute
            self.concurrent = cfg.concurrent_requests
            self.batch_per_minute = cfg.batch_per_minute
            self.enabled = cfg.throttle_enabled
            self._reset_usage()

    def _reset_usage(self) -> None:
        # Requests still in flight keep their slot: their `finally` will decrement a counter
        # that must not go negative, so carry the in-flight figure over.
        self._usage = {
            realm: _RealmUsage(in_flight=u.in_flight)
            for realm, u in self._usage.items()
            if u.in_flight
        }

    @contextmanager
    def slot(self, realm_id: str, batch: bool = False) -> Iterator[None]:
        """Hold one of the realm's request slots for the duration of the block.

        Args:
            realm_id: The company the request is for.
            batch: Whether this is a ``/batch`` call (it also counts as one request).

        Raises:
            ThrottleFault: A limit is exceeded; the request must not be executed.
        """
        self._acquire(realm_id, batch)
        try:
            # Injected latency (Chaos) is slept here, while the slot is held, because that is
            # what a slow QBO request does: it occupies one of the realm's concurrent slots.
            sleep_pending_latency()
            yield
        finally:
            with self._lock:
                usage = self._usage.get(realm_id)
                if usage is not None and usage.in_flight > 0:
                    usage.in_flight -= 1

    def _acquire(self, realm_id: str, batch: bool) -> None:
        now = self._clock.now()
        with self._lock:
            usage = self._usage.setdefault(realm_id, _RealmUsage())
            _prune(usage, now)
            reason = None
            if self.enabled:
                if usage.in_flight >= self.concurrent:
                    reason = "concurrent"
                elif len(usage.requests) >= self.per_minute:
                    reason = "per_minute"
                elif batch and len(usage.batches) >= self.batch_per_minute:
                    reason = "batch_per_minute"
            if reason is not None:
                usage.throttled += 1
                usage.throttled_by[reason] += 1
                # No Retry-After header: API.md §9 says Intuit documents none and tells clients
                # to wait 60 s; a faithful emulator must not teach clients to expect one.
                # (Chaos can add one when a test wants to exercise that path.)
                raise ThrottleFault()
            usage.requests.append(now)
            if batch:
                usage.batches.append(now)
            usage.total += 1
            usage.in_flight += 1
            usage.max_concurrent = max(usage.max_concurrent, usage.in_flight)

    def stats(self) -> dict[str, Any]:
        """Return limits and per-realm usage.

        Returns:
            ``{"enabled", "per_minute", "concurrent", "batch_per_minute", "window_seconds",
            "realms": {realm: {"requests_current_minute", "batch_current_minute", "in_flight",
            "max_concurrent", "requests_total", "throttled", "throttled_by"}}}``, where the
            "current minute" is the sliding 60-second window ending now (sandbox clock).
        """
        now = self._clock.now()
        with self._lock:
            realms: dict[str, Any] = {}
            for realm, usage in self._usage.items():
                _prune(usage, now)
                realms[realm] = {
                    "requests_current_minute": len(usage.requests),
                    "batch_current_minute": len(usage.batches),
                    "in_flight": usage.in_flight,
                    "max_concurrent": usage.max_concurrent,
                    "requests_total": usage.total,
                    "throttled": usage.throttled,
                    "throttled_by": dict(usage.throttled_by),
                }
            return {
                "enabled": self.enabled,
                "per_minute": self.per_minute,
                "concurrent": self.concurrent,
                "batch_per_minute": self.batch_per_minute,
                "window_seconds": int(WINDOW.total_seconds()),
                "realms": realms,
            }


def _prune(usage: _RealmUsage, now: datetime) -> None:
    """Drop timestamps that left the sliding window.

    A clock moved backwards (tests may do that) leaves timestamps "in the future"; they are
    dropped too, so the window never counts requests that have not happened yet.
    """
    start = now - WINDOW
    for log in (usage.requests, usage.batches):
        while log and log[0] <= start:
            log.popleft()
        if log and log[-1] > now:
            kept = [t for t in log if start < t <= now]
            log.clear()
            log.extend(kept)
