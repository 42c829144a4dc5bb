"""Fixtures for costbridge's own tests; the shared ones come from the `costbridge_testing` kit."""

from __future__ import annotations

import pytest

from costbridge_testing.shared import missing_samples_message


def pytest_configure(config: pytest.Config) -> None:
    """Stop at once, in one line, when the shared QBO samples are not beside the checkout."""
    message = missing_samples_message()
    if message:
        pytest.exit(message, returncode=4)
