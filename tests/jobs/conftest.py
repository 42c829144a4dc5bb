"""The push tests' QBO books (a connected company with vendor, customer, items, employee)."""

from __future__ import annotations

from tests.core.push.conftest import books

__all__ = ["books"]
