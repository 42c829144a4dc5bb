"""Job functions the ops tests queue for real `costbridge worker` processes."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger("tests.ops.jobs")


def slow(seconds: float, marker: str) -> str:
    """Sleep, then write `marker` (proof the job ran to its end)."""
    log.info("slow job started")
    time.sleep(seconds)
    Path(marker).write_text("done")
    log.info("slow job finished")
    return "done"


def note(marker: str) -> str:
    """Write `marker` at once."""
    Path(marker).write_text("done")
    return "done"


def die() -> None:
    """End the work horse running this job the way the kernel's OOM killer would."""
    os.kill(os.getpid(), signal.SIGKILL)


def die_with_worker() -> None:
    """End the worker process and then this work horse: the job stays "started" in Redis."""
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
