"""`python -m core.cli`: the `costbridge` command (the worker pool starts its processes so)."""

from core.cli import main

main()
