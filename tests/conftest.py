"""Fixtures for costbridge's own tests; the shared ones come from the `costbridge_testing` kit."""

from __future__ import annotations

import pytest

from costbridge_testing.shared import missing_samples_message


def pytest_configure(config: pytest.Config) -> None:
    """Stop at once, in one line, when the shared QBO samples are not beside the checkout."""
    message = missing_samples_message()
    if message:
        pytest.exit(message, returncode=4)


#: The tests whose outcome could depend on the calendar: the demo seed, pulls, reports, webhooks,
#: time entries, closed books, leases and tokens. CI runs them again at other dates under
#: libfaketime (`make test-dates`, tests/calendar_runs.py); each must pass on any day.
CALENDAR_SENSITIVE = (
    "tests/sandbox/",
    "tests/core/sync/",
    "tests/core/push/",
    "tests/plugins/",
    "tests/core/web/test_webhook",
    "tests/core/qbo/test_tokens.py",
    "tests/core/test_cli_sync.py",
    "tests/core/test_cli_push.py",
    "tests/core/test_cli_class_location.py",
    "tests/core/web/test_api_demo.py",
    "tests/core/web/test_realm_switch.py",
    "tests/core/test_clock_skew.py",
    "tests/core/test_project_settings.py",
    "tests/jobs/test_push_jobs.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the calendar-sensitive tests `calendar` (select them with `-m calendar`)."""
    root = config.rootpath
    for item in items:
        where = item.path.relative_to(root).as_posix()
        if where.startswith(CALENDAR_SENSITIVE):
            item.add_marker(pytest.mark.calendar)
