"""Loaded only by the calendar runs (tests/calendar_runs.py puts this folder on PYTHONPATH).

Python 3.11's `time.sleep` waits with `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`, and
libfaketime 0.9.10 (Debian's) turns that absolute deadline into an invalid one when it leaves
the monotonic clock real: every sleep fails with EINVAL. Faking the monotonic clock instead hangs
every timed lock wait (`sem_clockwait`, which libfaketime does not intercept). So the runs keep
the monotonic clock real and sleep here with `select`, whose timeout is relative.
"""

from __future__ import annotations

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
