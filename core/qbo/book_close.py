"""QBO's closed-books date (Preferences → AccountingInfoPrefs.BookCloseDate), cached per realm.

Both sides need it: a pull flags edits landing in a closed month, a push refuses a record dated
on or before it. Reading Preferences costs one request of the realm's minute budget, so the date
is kept in Redis (`costbridge:<install id>:book-close:<realm>`, with the time it was read) and
each reader says how old a value it accepts: a pull an hour, a push a minute (a bulk push would
otherwise spend half its requests re-reading it).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any

from core import namespace

log = logging.getLogger(__name__)

__all__ = ["BookClose"]

KEEP_SECONDS = 3600


class BookClose:
    """The closed-books date of one realm, read through `client` at most once per `max_age`.

    Args:
        client: The realm's `QboClient` (anything with its `request`).
        realm_id: The realm.
        redis: Where the date is shared between processes (None: read once per object).
        max_age: Oldest cached value, in seconds, this reader accepts.
    """

    def __init__(
        self, client: Any, realm_id: str, redis: Any, *, max_age: float = KEEP_SECONDS
    ) -> None:
        """Nothing is read yet."""
        self.client = client
        self.key = namespace.redis_key(redis, "book-close", realm_id)
        self.redis = redis
        self.max_age = max_age
        self._known: tuple[dt.date | None] | None = None

    def date(self) -> dt.date | None:
        """The close date, or None when the books are not closed."""
        if self._known is None:
            cached = self._cached()
            self._known = cached if cached is not None else (self._read(),)
        return self._known[0]

    def prime(self) -> None:
        """Read it now (after a full sync), so later CDC pulls find it cached."""
        self._known = (self._read(),)

    def _cached(self) -> tuple[dt.date | None] | None:
        if self.redis is None:
            return None
        try:
            raw = self.redis.get(self.key)
        except Exception as exc:  # noqa: BLE001 - a cache miss, not a failure
            log.warning(
                "book close date not read from the cache (%s): %s; asking QuickBooks",
                self.key,
                type(exc).__name__,
            )
            return None
        if raw is None:
            return None
        text, _, read_at = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition("|")
        try:
            age = time.time() - float(read_at)
            return (dt.date.fromisoformat(text) if text else None,) if age <= self.max_age else None
        except ValueError:
            return None

    def _read(self) -> dt.date | None:
        body = self.client.request("GET", "preferences", what="Reading company preferences")
        prefs = body.get("Preferences") if isinstance(body, Mapping) else None
        info = (prefs or {}).get("AccountingInfoPrefs") or {}
        text = str(info.get("BookCloseDate") or "")[:10]
        closed = dt.date.fromisoformat(text) if text else None
        if self.redis is not None:
            try:
                self.redis.set(self.key, f"{text}|{time.time():.3f}", ex=KEEP_SECONDS)
            except Exception:  # noqa: BLE001 - the next reader reads it again
                log.warning("could not cache the book close date (%s)", self.key)
        return closed
