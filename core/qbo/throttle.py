"""QBO's per-realm limits, kept by every worker together through Redis.

QBO allows per realm 500 requests a minute, 10 in flight and 40 batch calls a minute (API.md §9;
DESIGN.md "Within QBO's limits"). Going over earns a 429 and, repeated, a longer penalty, so a
caller that would exceed a limit waits here (bounded by `max_wait`) instead.

Redis keys, per realm, each under the install's id like every costbridge key
(`costbridge:<install id>:qbo:...`, `core.namespace`):

- `qbo:rate:<realm>` (sorted set): one member per request sent in the window, scored by
  send time (ms);
- `qbo:batch:<realm>` (sorted set): the same for `/batch` calls;
- `qbo:inflight:<realm>` (sorted set): one member per request in flight, scored by the end
  of its lease (ms);
- `qbo:pause:<realm>` (string): set after a 429; nobody sends until it expires.

So two installs connected to one realm keep a budget each: together they can send twice
what QBO allows that realm (and then meet its 429s, which each install honours).

The windows slide (as QBO's and the sandbox's do), timed by the Redis server's clock so every
process agrees. An in-flight slot is a lease: a process killed mid-request frees its slot when
the lease ends instead of leaking it forever. Each step is one Lua script, so two workers can
never both take the last slot.

While batch calls are in use, single requests keep room in the minute's budget for the batch
calls it still allows: a batch carries up to 30 writes for one request, so spending the budget
on singles first would cost bills per minute.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from typing import cast

from redis import Redis

from core import namespace
from core.config import Settings
from core.crypto import scrubbed_logger
from core.qbo.errors import Throttled

log = scrubbed_logger(__name__)

WINDOW_MS = 60_000
# Our send time is taken a moment before QBO stamps the request; a little slack keeps our
# window from forgetting a request QBO still counts.
SLACK_MS = 250

# KEYS: rate, batch, pause. ARGV: rate limit, batch limit (0 = not a batch), window ms, member,
# the realm's batch limit. Returns 0 when a request slot was taken, else the milliseconds to wait.
# While batch calls are in use in the window, a single request leaves room in the rate budget
# for the batch calls the window still allows (each carries up to 30 writes for one request).
_TAKE_RATE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local pause = tonumber(redis.call('PTTL', KEYS[3]))
if pause and pause > 0 then return pause end
local window = tonumber(ARGV[3])
local limit = tonumber(ARGV[1])
local batch_limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local batches = redis.call('ZCARD', KEYS[2])
if batch_limit == 0 and batches > 0 then
  limit = math.max(limit - math.max(tonumber(ARGV[5]) - batches, 0), 1)
end
local wait = 0
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local nth = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  wait = math.max(tonumber(nth[2]) + window - now, 1)
end
if batch_limit > 0 and batches >= batch_limit then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  local bwait = tonumber(oldest[2]) + window - now
  if bwait > wait then wait = bwait end
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window * 2)
if batch_limit > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], window * 2)
end
return 0
"""

# KEYS: inflight. ARGV: limit, lease ms, member. Returns 0 when taken, else ms until the
# earliest lease ends (a hint; a release usually comes sooner).
_TAKE_SLOT = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(first[2]) - now
"""

# KEYS: pause. ARGV: ms. Extends a pause, never shortens it.
_PAUSE = """
local left = tonumber(redis.call('PTTL', KEYS[1]))
if left == nil or left < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


@dataclass(frozen=True)
class Limits:
    """Per-realm limits; `from_settings` reads `QBO_RATE_PER_MINUTE` and friends."""

    per_minute: int = 500
    in_flight: int = 10
    batch_per_minute: int = 40
    window_ms: int = WINDOW_MS

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The configured limits."""
        return cls(
            per_minute=settings.qbo_rate_per_minute,
            in_flight=settings.qbo_max_in_flight,
            batch_per_minute=settings.qbo_batch_per_minute,
        )


class RealmThrottle:
    """Admission control for one process's requests to QBO, shared through Redis.

    Args:
        redis: The shared Redis.
        limits: The per-realm numbers.
        lease_seconds: How long an in-flight slot lives if its holder never releases it
            (longer than QBO's 120 s request limit plus our timeout).
        max_wait: Longest a caller waits for a slot before `Throttled` is raised.
        sleep: How to wait (tests may steer it).
    """

    def __init__(
        self,
        redis: Redis,
        limits: Limits | None = None,
        *,
        lease_seconds: float = 150.0,
        max_wait: float = 180.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Register the scripts; nothing is sent to Redis yet."""
        self.redis = redis
        self.limits = limits or Limits()
        self.lease_ms = int(lease_seconds * 1000)
        self.max_wait = max_wait
        self.sleep = sleep
        self._take_rate = redis.register_script(_TAKE_RATE)
        self._take_slot = redis.register_script(_TAKE_SLOT)
        self._pause = redis.register_script(_PAUSE)

    @staticmethod
    def keys(realm_id: str, install_id: str | None = None) -> dict[str, str]:
        """The Redis keys used for a realm by an install (None: a connection of no install)."""
        return {
            name: namespace.key(install_id, "qbo", name, realm_id)
            for name in ("rate", "batch", "inflight", "pause")
        }

    def realm_keys(self, realm_id: str) -> dict[str, str]:
        """The keys this throttle uses for a realm (under its connection's install)."""
        return self.keys(realm_id, namespace.install_id_of(self.redis))

    @contextmanager
    def slot(self, realm_id: str, *, batch: bool = False) -> Iterator[None]:
        """Hold an in-flight slot and a place in the minute's budget while the block runs.

        Raises:
            Throttled: No slot came free within `max_wait` seconds.
        """
        keys = self.realm_keys(realm_id)
        member = uuid.uuid4().hex
        deadline = time.monotonic() + self.max_wait

        def take_slot() -> int:
            return int(
                self._take_slot(
                    keys=[keys["inflight"]], args=[self.limits.in_flight, self.lease_ms, member]
                )
            )

        def take_rate() -> int:
            return int(
                self._take_rate(
                    keys=[keys["rate"], keys["batch"], keys["pause"]],
                    args=[
                        self.limits.per_minute,
                        self.limits.batch_per_minute if batch else 0,
                        self.limits.window_ms + SLACK_MS,
                        member,
                        self.limits.batch_per_minute,
                    ],
                )
            )

        # The in-flight slot first, then the rate token just before sending: a token taken
        # early and then spent waiting would leave our window before QBO's does. A caller
        # that must wait for the minute's budget gives its slot back meanwhile, so waiters
        # never hold the realm's concurrency (nor outlive their lease).
        while True:
            self._wait_for(take_slot, deadline, realm_id, "in-flight")
            try:
                wait_ms = take_rate()
            except BaseException:
                self.redis.zrem(keys["inflight"], member)
                raise
            if wait_ms <= 0:
                break
            self.redis.zrem(keys["inflight"], member)
            self._wait_for(_const(wait_ms), deadline, realm_id, "per-minute", once=True)
        try:
            yield
        finally:
            self.redis.zrem(keys["inflight"], member)

    def pause(self, realm_id: str, seconds: float) -> None:
        """Stop every worker sending to this realm for `seconds` (after a 429)."""
        ms = max(1, int(seconds * 1000))
        self._pause(keys=[self.realm_keys(realm_id)["pause"]], args=[ms])

    def paused_for(self, realm_id: str) -> float:
        """Seconds left on the realm's pause (0 when none)."""
        left: Any = self.redis.pttl(self.realm_keys(realm_id)["pause"])
        return max(0.0, int(left) / 1000.0)

    def in_flight(self, realm_id: str) -> int:
        """How many live leases the realm has now (expired ones are not counted)."""
        live: Any = self.redis.zcount(
            self.realm_keys(realm_id)["inflight"], self._redis_ms(), "+inf"
        )
        return int(live)

    def batch_room(self, realm_id: str) -> int:
        """How many batch calls the realm's window has room for now (0: a batch would wait)."""
        counted: Any = self.redis.zcount(
            self.realm_keys(realm_id)["batch"], self._redis_ms() - self.limits.window_ms, "+inf"
        )
        used = int(counted)
        return max(self.limits.batch_per_minute - used, 0)

    def _redis_ms(self) -> int:
        """Redis's clock in milliseconds: the scripts score entries by it, so reads compare by it
        too (this machine's clock may differ from the Redis server's)."""
        seconds, micros = cast(tuple[int, int], self.redis.time())
        return int(seconds) * 1000 + int(micros) // 1000

    def reset(self, realm_id: str) -> None:
        """Forget the realm's usage (tests and the bench)."""
        self.redis.delete(*self.realm_keys(realm_id).values())

    def _wait_for(
        self,
        attempt: Callable[[], int],
        deadline: float,
        realm_id: str,
        what: str,
        *,
        once: bool = False,
    ) -> None:
        """Call `attempt` until it returns <= 0 ms to wait, sleeping in between.

        With `once`, sleep the wait `attempt` names a single time and return (the caller
        retries the whole acquisition).

        Raises:
            Throttled: The wait would pass `deadline`.
        """
        while True:
            wait_ms = attempt()
            if wait_ms <= 0:
                return
            left = deadline - time.monotonic()
            if left <= 0 or (once and wait_ms / 1000.0 > left):
                raise Throttled(
                    "QuickBooks' request limit for this company is used up for now.",
                    fix="Nothing to do; it runs again shortly.",
                    retry_after=wait_ms / 1000.0,
                    qbo_message=f"local {what} limit for realm {realm_id}",
                )
            # Sleep to the moment the budget frees, a little jittered so waiters do not
            # stampede; in-flight slots are usually freed sooner than a lease says, so poll.
            pause = wait_ms / 1000.0 if what == "per-minute" else min(wait_ms / 1000.0, 0.02)
            self.sleep(min(left, pause + random.uniform(0, 0.01)))  # noqa: S311 - jitter
            if once:
                return


def _const(value: int) -> Callable[[], int]:
    """An attempt that reports a wait already known."""
    return lambda: value
