"""The demo company's journal entries: a job-cost reclassification every four weeks.

Shop labor booked to Direct Labor with no job is moved onto the jobs that used it (debit
Direct Labor naming the job in ``Entity``, credit Direct Labor with no job), and on some
entries company equipment is charged to the jobs (debit Equipment Rental naming the job,
credit Equipment Rental Income). So the demo has journal-entry job costs to pull.

They are added after everything else and draw from their own ``random.Random``, so the rest of
the company is exactly what it was without them: no other record's content, Id or date moves.
Periods end four weeks apart counted back from the demo's today (not on calendar month ends),
so they move by whole weeks with the rest of the company (``seed.py``).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from typing import Any

from sandbox.seed_names import Job
from sandbox.seed_names import NameListSeeder
from sandbox.seed_names import money
from sandbox.seed_names import ref
from sandbox.seed_names import usd

if TYPE_CHECKING:
    import random

PERIOD_DAYS = 28
"""Days between two reclassification entries (four weeks, so weekdays never move)."""
SEED_OFFSET = 19_001
"""The entries draw from ``random.Random(seed + SEED_OFFSET)``, never from the main stream."""
MAX_JOBS = 3
"""Jobs one entry charges at most."""
ENTRY_LAG_DAYS = 3
"""An entry dated at a period's end is keyed in this many days later (not after today)."""


def add_journal_entries(seeder: NameListSeeder, rng: random.Random) -> int:
    """Insert the reclassification entries, oldest first; return how many.

    Args:
        seeder: The seeder that built the company (its jobs, accounts, classes and calendar).
        rng: This step's own random stream.

    Returns:
        The number of journal entries inserted.
    """
    # Period ends are Fridays (two days before the demo's today, a Sunday), counted back.
    ends = []
    day = seeder.today - 2
    while day - PERIOD_DAYS + 1 >= seeder.first:
        ends.append(day)
        day -= PERIOD_DAYS
    inserted = 0
    for end in reversed(ends):
        obj = _entry(seeder, rng, end, inserted + 1)
        if obj is None:
            continue
        created = seeder.at(
            min(end + ENTRY_LAG_DAYS, seeder.today), rng.randint(8, 16), rng.randint(0, 59)
        )
        seeder.insert("JournalEntry", obj, created)
        inserted += 1
    return inserted


def _entry(
    seeder: NameListSeeder, rng: random.Random, end: int, number: int
) -> dict[str, Any] | None:
    """One period's entry, or None when no job ran in that period."""
    start = end - PERIOD_DAYS + 1
    running = [
        job
        for job in seeder.jobs
        if ":" in job.ref["name"] and job.start <= end and job.end >= start
    ]
    if not running:
        return None
    jobs = sorted(
        rng.sample(running, min(len(running), rng.randint(1, MAX_JOBS))),
        key=lambda job: int(job.ref["value"]),
    )
    lines: list[dict[str, Any]] = []
    labor = [rng.randint(40_000, 480_000) for _ in jobs]
    for job, cents in zip(jobs, labor, strict=True):
        lines.append(
            _line(seeder, "Debit", "labor", cents, "Shop labor reclassified to the job", job)
        )
    lines.append(_line(seeder, "Credit", "labor", sum(labor), "Shop labor reclassified to jobs"))
    if rng.random() < 0.5:
        equipment = [rng.randint(15_000, 250_000) for _ in jobs]
        for job, cents in zip(jobs, equipment, strict=True):
            text = "Company equipment used on the job"
            lines.append(_line(seeder, "Debit", "rental", cents, text, job))
        lines.append(
            _line(seeder, "Credit", "rental_income", sum(equipment), "Company equipment charged")
        )
    return {
        "DocNumber": f"JC-{number:03d}",
        "TxnDate": date.fromordinal(end).isoformat(),
        "CurrencyRef": usd(),
        "PrivateNote": "Job-cost reclassification",
        "Adjustment": False,
        "Line": lines,
    }


def _line(
    seeder: NameListSeeder,
    posting: str,
    account: str,
    cents: int,
    text: str,
    job: Job | None = None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {"PostingType": posting, "AccountRef": seeder.acct_ref(account)}
    if job is not None:
        detail["Entity"] = {"Type": "Customer", "EntityRef": dict(job.ref)}
        cls = seeder.classes[job.class_key]
        detail["ClassRef"] = ref(cls["Id"], cls["Name"])
    return {
        "Description": text,
        "Amount": money(cents),
        "DetailType": "JournalEntryLineDetail",
        "JournalEntryLineDetail": detail,
    }
