"""Seconds to seed the demo company at default size and at 100,000+ transaction lines.

Targets (issue Done-when, 2-core machine): default size under 10 s, 100,000 lines under 60 s.
"""

from __future__ import annotations

import gc
import time

from sandbox import seed
from sandbox.state import Sandbox

LARGE_SIZE = 10.5
"""Size giving 100,000+ transaction lines with margin (about 106,000; 10.0 gives ~101,000)."""


def _run(size: float) -> tuple[float, seed.SeedCounts]:
    sb = Sandbox()
    gc.collect()
    started = time.perf_counter()
    _, counts = seed.seed_demo_counted(sb, size=size)
    return time.perf_counter() - started, counts


def main() -> None:
    """Seed at size 1.0 and at LARGE_SIZE and print timings and counts."""
    for label, size in (("default", 1.0), ("large", LARGE_SIZE)):
        seconds, counts = _run(size)
        print(
            f"   {label:8s} size={size:<5g} {seconds:6.2f} s  "
            f"transactions={counts.transactions:,}  lines={counts.lines:,}  "
            f"attachments={counts.attachments:,}  deleted={counts.deleted:,}  "
            f"voided={counts.voided:,}  lines/s={counts.lines / seconds:,.0f}"
        )
        if size == LARGE_SIZE and counts.lines < 100_000:
            print(f"   WARNING: size {size} gave fewer than 100,000 lines")


if __name__ == "__main__":
    main()
