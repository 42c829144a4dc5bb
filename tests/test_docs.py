"""The hook reference documents every hook exactly, and every hook has a test named after it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs

ROOT = Path(__file__).parent.parent
HOOKS = sorted(
    n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "costbridge_spec")
)


def _signature(name: str) -> str:
    sig = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_heading_with_its_exact_signature(hook):
    headings = re.findall(r"^### `(.+)`$", (ROOT / "docs" / "plugins.md").read_text(), re.M)
    assert _signature(hook) in headings


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test_named_after_it(hook):
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    assert re.search(rf"def test_\w*{hook}\w*\(", sources), f"no test named after {hook}"
