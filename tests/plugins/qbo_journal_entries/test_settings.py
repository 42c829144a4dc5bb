"""Counting journal entries is refused for a project linked to no customer."""

from __future__ import annotations

import plugins.qbo_journal_entries
from core.contracts import ProjectView


def project(customer):
    return ProjectView(1, 1, "Maple Street Remodel", customer, {})


def test_counting_journal_entries_needs_a_linked_customer():
    (problem,) = plugins.qbo_journal_entries.validate_settings(
        project(None), {"count_journal_entries": True}
    )

    assert problem.key == "count_journal_entries"
    assert "not linked" in problem.message


def test_a_linked_project_or_the_toggle_off_is_fine():
    hook = plugins.qbo_journal_entries.validate_settings
    assert hook(project("58"), {"count_journal_entries": True}) == []
    assert hook(project(None), {"count_journal_entries": False}) == []
