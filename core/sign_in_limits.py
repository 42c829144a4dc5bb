"""How many sign-in attempts an account and a client address get: counted in Redis, atomically.

Every attempt is counted *before* its password is checked (one Lua script: increment, then
decide), so thirty guesses sent at once get at most `PAIR_LIMIT` password checks, not thirty.
Three counts, each over `WINDOW` seconds from its first attempt:

- **account and address** (`PAIR_LIMIT`, 10): the classic lockout. It locks out the address
  that failed, not the account: the right password from another address still gets in.
- **address** (`ADDRESS_LIMIT`, 30, over every account): password spraying, one address
  guessing a common password for many accounts, is refused after that many attempts.
- **account** (`ACCOUNT_FREE`, 10 failures over every address): guessing one account from many
  addresses (a botnet) is slowed, not stopped: from then on one attempt on that account is let
  through every 2, 4, 8, ... seconds, at most `BACKOFF_CAP` (5 minutes) apart. Addresses the
  account signed in from within `KNOWN_FOR` (30 days) skip this delay, so an attack elsewhere
  never keeps its owner out; `costbridge users unlock EMAIL` clears every count of an account.

A successful sign-in clears its account's counts and gives back its attempt on the address.

Keys hold only digests of what people type (`sha256`), never the text itself: a 20 MB e-mail
makes a key of 64 hex characters. Like every costbridge key they carry the install id
(`core.namespace`): `costbridge:<install>:sign-in-failures:<sha256(email)>`.

When Redis does not answer, attempts cannot be counted, so none is let through (`Unavailable`).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from core import namespace

__all__ = [
    "ACCOUNT_FREE",
    "ADDRESS_LIMIT",
    "BACKOFF_CAP",
    "KNOWN_FOR",
    "PAIR_LIMIT",
    "WINDOW",
    "Decision",
    "Unavailable",
    "digest",
    "failed",
    "reserve",
    "succeeded",
    "unlock",
]

#: Seconds every count lasts from its first attempt.
WINDOW = 15 * 60
#: Attempts per account and address within `WINDOW` that get a password check.
PAIR_LIMIT = 10
#: Attempts per address over all accounts within `WINDOW` (password spraying).
ADDRESS_LIMIT = 30
#: Failures of one account over all addresses before its attempts are spaced out.
ACCOUNT_FREE = 10
#: Longest wait, in seconds, between two attempts on an account under attack.
BACKOFF_CAP = 300
#: How long an address the account signed in from skips the account's delay (seconds).
KNOWN_FOR = 30 * 24 * 3600


class Unavailable(Exception):
    """Redis does not answer: attempts cannot be counted, so sign-in is refused."""


@dataclass(frozen=True)
class Decision:
    """Whether an attempt may check its password; if not, why and for how long."""

    allowed: bool
    reason: str = ""
    retry_after: int = 0

    @property
    def message(self) -> str:
        """The refusal in words a person at the sign-in page understands."""
        wait = _words(self.retry_after)
        if self.reason == "address":
            return (
                "Too many failed sign-ins from your network for several accounts; "
                f"wait {wait} and try again."
            )
        if self.reason == "account":
            return (
                "This account is being signed in to with wrong passwords from elsewhere, so "
                f"attempts are spaced out: wait {wait} and try again, or ask an admin to run "
                "`costbridge users unlock` for it."
            )
        return f"Too many failed attempts; wait {wait} and try again."


def _words(seconds: int) -> str:
    if seconds <= 60:
        return "a minute"
    return f"{(seconds + 59) // 60} minutes"


def digest(*parts: str) -> str:
    """The sha256 (hex) of `parts`, each length-prefixed so no two tuples collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        h.update(f"{len(data)}:".encode())
        h.update(data)
    return h.hexdigest()


def _keys(redis: Redis, email: str, address: str) -> dict[str, str]:
    account = digest(email)
    pair = digest(email, address)
    return {
        "pair": namespace.redis_key(redis, "sign-in-failures", account, digest(address)),
        "address": namespace.redis_key(redis, "sign-in-address", digest(address)),
        "account": namespace.redis_key(redis, "sign-in-failures", account),
        "gate": namespace.redis_key(redis, "sign-in-gate", account),
        "known": namespace.redis_key(redis, "sign-in-known", pair),
    }


# KEYS: pair, address, account, gate, known. ARGV: window s, pair limit, address limit,
# account free, cap ms, now ms. Returns {0|1|2|3, wait seconds}: allowed, or refused by the
# pair, the address or the account's spacing.
_RESERVE = """
local window = tonumber(ARGV[1])
local p = redis.call('INCR', KEYS[1])
if p == 1 then redis.call('EXPIRE', KEYS[1], window) end
local a = redis.call('INCR', KEYS[2])
if a == 1 then redis.call('EXPIRE', KEYS[2], window) end
if p > tonumber(ARGV[2]) then return {1, redis.call('TTL', KEYS[1])} end
if a > tonumber(ARGV[3]) then return {2, redis.call('TTL', KEYS[2])} end
if redis.call('EXISTS', KEYS[5]) == 0 then
  local n = tonumber(redis.call('GET', KEYS[3]) or '0')
  local free = tonumber(ARGV[4])
  if n >= free then
    local now = tonumber(ARGV[6])
    local gate = tonumber(redis.call('GET', KEYS[4]) or '0')
    if now < gate then return {3, math.ceil((gate - now) / 1000)} end
    local delay = math.min(tonumber(ARGV[5]), 1000 * 2 ^ (n - free + 1))
    redis.call('SET', KEYS[4], now + delay, 'PX', window * 1000)
  end
end
return {0, 0}
"""
_COUNT = """
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
"""
_REASONS = {1: "pair", 2: "address", 3: "account"}


def reserve(redis: Redis, email: str, address: str) -> Decision:
    """Count one attempt of `email` from `address`; whether its password may be checked.

    Raises:
        Unavailable: Redis does not answer.
    """
    keys = _keys(redis, email, address)
    try:
        raw: Any = redis.eval(
            _RESERVE,
            5,
            keys["pair"],
            keys["address"],
            keys["account"],
            keys["gate"],
            keys["known"],
            WINDOW,
            PAIR_LIMIT,
            ADDRESS_LIMIT,
            ACCOUNT_FREE,
            BACKOFF_CAP * 1000,
            int(time.time() * 1000),
        )
    except RedisError as exc:
        raise Unavailable(type(exc).__name__) from exc
    code, wait = int(raw[0]), max(int(raw[1]), 1)
    if code == 0:
        return Decision(True)
    return Decision(False, _REASONS[code], wait)


def failed(redis: Redis, email: str, address: str) -> None:
    """A checked password was wrong: count it against the account over every address.

    Raises:
        Unavailable: Redis does not answer (the next attempt is refused too).
    """
    keys = _keys(redis, email, address)
    try:
        redis.eval(_COUNT, 1, keys["account"], WINDOW)
    except RedisError as exc:
        raise Unavailable(type(exc).__name__) from exc


def succeeded(redis: Redis, email: str, address: str) -> None:
    """The right password: clear the account's counts, give the address its attempt back.

    The address is remembered for the account (`KNOWN_FOR`), so an attack on the account from
    elsewhere does not space out its owner's attempts from here. A Redis error is swallowed:
    the person is already signed in.
    """
    keys = _keys(redis, email, address)
    try:
        pipe = redis.pipeline(transaction=True)
        pipe.delete(keys["pair"], keys["account"], keys["gate"])
        pipe.decr(keys["address"])
        pipe.set(keys["known"], 1, ex=KNOWN_FOR)
        pipe.execute()
    except RedisError:
        return


def unlock(redis: Redis, email: str) -> int:
    """Clear every count of `email`'s account, from every address; how many keys went.

    Raises:
        Unavailable: Redis does not answer.
    """
    account = digest(email)
    try:
        names = [
            namespace.redis_key(redis, "sign-in-failures", account),
            namespace.redis_key(redis, "sign-in-gate", account),
            *redis.scan_iter(
                match=namespace.redis_key(redis, "sign-in-failures", account, "*"), count=500
            ),
        ]
        removed: Any = redis.delete(*names)
        return int(removed)
    except RedisError as exc:
        raise Unavailable(type(exc).__name__) from exc
