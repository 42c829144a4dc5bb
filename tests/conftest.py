"""Fixtures for costbridge's own tests; the shared ones come from `core.testing` (pytest11)."""

from __future__ import annotations
