"""Seed companies: the empty one the sandbox starts with and the demo construction company.

The demo is a pure function of ``(seed, size)``: ``random.Random(seed)`` drives every choice,
and every day and time is drawn relative to the demo's own "today", never to the hour or
weekday it is seeded. That today is the latest Sunday before the as-of day (the sandbox
clock's today unless ``as_of`` names another day); the seed's "now" is 20:00 company time on
it, so the company lies wholly in the past. Seeding on another day moves the whole company
by whole weeks: names, amounts, lines, links, Ids, order and every weekday stay the same,
only the dates move (and the UTC offset of a timestamp, where DST differs). See
``seed_names.WEEK_ANCHOR`` and ``seed_names.CLOSE_OF_DAY``.

Records go in through ``Realm.insert`` (no validation, no webhooks), in the order they were
entered in QBO, so Ids grow with CreateTime as they do in a real company; later updates,
deletions, voids and attachments are dated through the ``Realm`` API's ``updated=``, ``at=``
and ``created=`` arguments.

The work is split by idea: ``seed_data`` (tables), ``seed_names`` (name lists and the seed's
calendar), ``seed_txns`` (transactions and their fates) and ``seed_journal`` (journal entries,
added last from their own random stream, so they change no other record).
"""

from __future__ import annotations

import random
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING

from sandbox import seed_data as data
from sandbox.seed_journal import SEED_OFFSET as JOURNAL_SEED_OFFSET
from sandbox.seed_journal import add_journal_entries
from sandbox.seed_names import HISTORY_DAYS
from sandbox.seed_names import NameListSeeder
from sandbox.seed_names import SeedCounts
from sandbox.seed_txns import BANK_FEED_SOURCE
from sandbox.seed_txns import BASE_VOLUMES
from sandbox.seed_txns import DemoSeeder

if TYPE_CHECKING:
    from sandbox.state import Realm
    from sandbox.state import Sandbox

__all__ = [
    "BANK_FEED_SOURCE",
    "BASE_VOLUMES",
    "DEMO_REALM_ID",
    "HISTORY_DAYS",
    "SeedCounts",
    "as_of_from_text",
    "seed_demo",
    "seed_demo_counted",
    "seed_empty",
]

DEMO_REALM_ID = "9130356542187704"
"""Realm id of the demo company (16 digits, like Intuit's sandbox companies)."""


def seed_empty(sb: Sandbox, realm_id: str | None = None) -> Realm:
    """Create a company with CompanyInfo, Preferences and a minimal chart of accounts.

    Args:
        sb: The sandbox to add the realm to.
        realm_id: Digits; the sandbox picks a random id when None.

    Returns:
        The new realm.
    """
    realm = sb.add_realm(realm_id, data.COMPANY_NAME)
    NameListSeeder(sb, realm, random.Random(0), 1.0).accounts(data.BASE_ACCOUNTS)
    return realm


def as_of_from_text(text: object) -> date | datetime:
    """Read an as-of value from JSON or a command line: ``YYYY-MM-DD`` or an ISO datetime.

    A date stays a date (the company's day); a datetime without an offset is read as UTC
    when seeding, as ``Clock.freeze`` reads one.

    Raises:
        ValueError: ``text`` is neither.
    """
    if not isinstance(text, str):
        raise ValueError("as_of must be a date (YYYY-MM-DD) or an ISO datetime string")
    text = text.strip()
    # datetime.fromisoformat reads a bare date as midnight, which would then be UTC midnight:
    # the day before in the company's zone.
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text)


def seed_demo(
    sb: Sandbox,
    realm_id: str = DEMO_REALM_ID,
    seed: int = 7,
    size: float = 1.0,
    *,
    as_of: date | datetime | None = None,
) -> Realm:
    """Create (or replace) the demo construction company.

    Args:
        sb: The sandbox to add the realm to.
        realm_id: Realm id of the company.
        seed: Random seed; the same seed and size give the same company on any day, moved by
            whole weeks.
        size: Scales the transaction count linearly (1.0 is about 10,000 lines).
        as_of: Seed the company as it stood on this day (a date in the company's zone, or a
            datetime; naive is UTC) instead of the sandbox clock's today. Its history ends
            on the last Sunday before that day.

    Returns:
        The seeded realm.
    """
    return seed_demo_counted(sb, realm_id, seed, size, as_of=as_of)[0]


def seed_demo_counted(
    sb: Sandbox,
    realm_id: str = DEMO_REALM_ID,
    seed: int = 7,
    size: float = 1.0,
    *,
    as_of: date | datetime | None = None,
) -> tuple[Realm, SeedCounts]:
    """Same as ``seed_demo``, also returning what was produced."""
    if size <= 0:
        raise ValueError("size must be positive")
    if as_of is not None and not isinstance(as_of, date):
        raise TypeError("as_of must be a date or a datetime")
    realm = sb.add_realm(realm_id, data.COMPANY_NAME)
    seeder = DemoSeeder(sb, realm, random.Random(seed), size, as_of)
    realm.seeding = True
    try:
        seeder.run()
        add_journal_entries(seeder, random.Random(seed + JOURNAL_SEED_OFFSET))
    finally:
        realm.seeding = False
    return realm, seeder.counts
