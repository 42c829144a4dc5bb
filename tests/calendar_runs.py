"""Run the calendar-sensitive tests again at other dates, the whole process tree under libfaketime.

`make test-dates` (and CI) runs `pytest -m calendar` once per date below. The dates are the
company's local dates (the sandbox's companies keep America/Los_Angeles): the coming Saturday,
29 February 2028 and the coming 31 December. libfaketime moves every clock of pytest and of the
processes it starts (sandbox threads, workers, the CLI) by the same whole number of days, with
the real time of day. PostgreSQL and Redis keep real time: costbridge stamps rows from Python,
gives Redis relative TTLs, and where it scores by Redis's clock it also reads by it. The
monotonic clock stays real, so timeouts and throttles measure real seconds; `calendar_shim/`
works around libfaketime's one fault with that (see its sitecustomize).

    python -m tests.calendar_runs [--date YYYY-MM-DD ...] [-- PYTEST_ARGS...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

COMPANY_TZ = ZoneInfo("America/Los_Angeles")
LEAP_DAY = dt.date(2028, 2, 29)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def company_today() -> dt.date:
    """Today's date where the sandbox's companies are."""
    return dt.datetime.now(COMPANY_TZ).date()


def default_dates(today: dt.date) -> list[dt.date]:
    """The coming Saturday, 29 February 2028 and the coming 31 December (never today)."""
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    new_years_eve = dt.date(today.year, 12, 31)
    if new_years_eve <= today:
        new_years_eve = dt.date(today.year + 1, 12, 31)
    return [saturday, LEAP_DAY, new_years_eve]


def run_at(day: dt.date, pytest_args: list[str]) -> int:
    """Run the calendar tests with every clock moved so that the company's today is `day`."""
    offset = (day - company_today()).days
    shim = str(Path(__file__).resolve().parent / "calendar_shim")
    env = dict(os.environ, FAKETIME_DONT_FAKE_MONOTONIC="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (shim, env.get("PYTHONPATH")) if p)
    command = [
        "faketime",
        "-m",
        "-f",
        f"{offset:+d}d",
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "calendar",
        "-q",
        *pytest_args,
    ]
    _say(f"calendar run: company date {day.isoformat()} ({day:%A}), clocks {offset:+d} days")
    return subprocess.run(command, env=env, check=False).returncode  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", action="append", type=dt.date.fromisoformat, default=[])
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    if shutil.which("faketime") is None:
        _say("calendar runs need libfaketime's `faketime` command: apt-get install faketime")
        return 2
    failed = []
    for day in args.date or default_dates(company_today()):
        if run_at(day, args.pytest_args) != 0:
            failed.append(day.isoformat())
    if failed:
        _say(f"calendar runs failed at: {', '.join(failed)}")
        return 1
    _say("calendar runs passed at every date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
