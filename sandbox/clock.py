"""A steerable clock: tests advance or freeze the sandbox's notion of now."""

from __future__ import annotations

import threading
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo


class Clock:
    """Wall clock plus a test-controlled offset, optionally frozen.

    Args:
        company_tz: IANA zone of the company; QBO renders every datetime in it.
    """

    def __init__(self, company_tz: str = "America/Los_Angeles") -> None:
        self.company_tz = ZoneInfo(company_tz)
        self._offset = timedelta(0)
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the sandbox's current time as an aware UTC datetime."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, if negative) by ``seconds``."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at ``at`` (aware; naive is read as UTC) or at the current time."""
        current = self.now()
        with self._lock:
            if at is None:
                self._frozen = current
            else:
                self._frozen = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)

    def unfreeze(self) -> None:
        """Let the clock run again from where it was frozen."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - datetime.now(UTC)
                self._frozen = None

    def reset(self) -> None:
        """Back to the real wall clock: no offset, not frozen."""
        with self._lock:
            self._offset = timedelta(0)
            self._frozen = None

    @property
    def frozen(self) -> bool:
        """Whether the clock is currently frozen."""
        return self._frozen is not None

    def local(self, dt: datetime | None = None) -> datetime:
        """Return ``dt`` (default now) in the company's time zone."""
        return (dt or self.now()).astimezone(self.company_tz)

    def local_iso(self, dt: datetime | None = None) -> str:
        """Render a datetime like QBO's MetaData: seconds and the company offset."""
        return self.local(dt).replace(microsecond=0).isoformat()

    def time_str(self, dt: datetime | None = None) -> str:
        """Render the envelope ``time``: milliseconds and the company offset."""
        return self.local(dt).isoformat(timespec="milliseconds")

    def today(self) -> str:
        """Today's date in the company's time zone, as QBO's ``TxnDate`` default."""
        return self.local().date().isoformat()
