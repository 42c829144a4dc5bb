"""Seed companies: the empty one the sandbox starts with and the demo construction company.

The demo is deterministic: ``random.Random(seed)`` drives every choice, and every timestamp
is an offset from the sandbox clock's current minute, so one seed number and one clock reading
always give the same realm (Ids, amounts, MetaData and all). Records go in through
``Realm.insert`` (no validation, no webhooks), in the order they were entered in QBO, so Ids grow
with CreateTime as they do in a real company; later updates, deletions, voids and attachments
are dated through the ``Realm`` API's ``updated=``, ``at=`` and ``created=`` arguments.

The work is split by idea: ``seed_data`` (tables), ``seed_names`` (name lists and the shared
clock) and ``seed_txns`` (transactions and their fates).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sandbox import seed_data as data
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


def seed_demo(
    sb: Sandbox, realm_id: str = DEMO_REALM_ID, seed: int = 7, size: float = 1.0
) -> Realm:
    """Create (or replace) the demo construction company.

    Args:
        sb: The sandbox to add the realm to.
        realm_id: Realm id of the company.
        seed: Random seed; the same seed and clock give an identical company.
        size: Scales the transaction count linearly (1.0 is about 10,000 lines).

    Returns:
        The seeded realm.
    """
    return seed_demo_counted(sb, realm_id, seed, size)[0]


def seed_demo_counted(
    sb: Sandbox, realm_id: str = DEMO_REALM_ID, seed: int = 7, size: float = 1.0
) -> tuple[Realm, SeedCounts]:
    """Same as ``seed_demo``, also returning what was produced."""
    if size <= 0:
        raise ValueError("size must be positive")
    realm = sb.add_realm(realm_id, data.COMPANY_NAME)
    seeder = DemoSeeder(sb, realm, random.Random(seed), size)
    realm.seeding = True
    try:
        seeder.run()
    finally:
        realm.seeding = False
    return realm, seeder.counts
