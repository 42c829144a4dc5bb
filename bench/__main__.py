"""Run benchmarks and print their figures: `python -m bench [name ...]` (`--help` lists them)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path


def available() -> list[str]:
    """The benchmark names: each `bench_<name>` module in this folder."""
    here = Path(__file__).parent
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_")
    )


def summary(name: str) -> str:
    """The first line of a benchmark's docstring."""
    module = importlib.import_module(f"bench.bench_{name}")
    return (module.__doc__ or "").strip().splitlines()[0]


def parser() -> argparse.ArgumentParser:
    """The command line, its help listing every benchmark with what it measures."""
    listing = "\n".join(f"  {name:10s} {summary(name)}" for name in available())
    return argparse.ArgumentParser(
        prog="python -m bench",
        description="Run costbridge's benchmarks (all of them when none is named).",
        epilog=f"benchmarks:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv: list[str]) -> int:
    """Run the named benchmarks (or all), printing each one's figures and duration."""
    cli = parser()
    cli.add_argument("names", nargs="*", metavar="name", help="benchmarks to run (see below)")
    args = cli.parse_args(argv)
    names = [n.removeprefix("bench_") for n in args.names]
    unknown = sorted(set(names) - set(available()))
    if unknown:
        cli.error(
            f"no benchmark called {', '.join(unknown)} (choose from {', '.join(available())})"
        )
    for name in names or available():
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== {name}: {summary(name)}")
        started = time.perf_counter()
        module.main()
        print(f"   ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
