"""The journal-entries plugin's per-project setting: off until an admin chooses to count them."""

from __future__ import annotations

from collections.abc import Mapping

from core.contracts import Exclusion
from core.contracts import ProjectView
from core.contracts import SettingProblem
from core.contracts import SettingSpec

COUNT = "count_journal_entries"

SETTINGS = (
    SettingSpec(
        COUNT,
        "Count journal entries",
        "bool",
        False,
        "Journal entry lines naming this project's customer count as costs: debits add, credits "
        "take away. QuickBooks does not say which journal lines post to receivables, so post "
        "only job costs to the customer by journal entry while this is on.",
    ),
)

#: Every line of a JournalEntry while the project does not count them (the default).
NOT_COUNTED = Exclusion(
    COUNT, False, "a journal entry, and this project does not count journal entries"
)


def problems(project: ProjectView, settings: Mapping[str, object]) -> list[SettingProblem]:
    """Counting journal entries is refused while the project is linked to no customer."""
    if project.qbo_customer_id or not settings.get(COUNT):
        return []
    return [
        SettingProblem(
            COUNT,
            "This project is not linked to a QuickBooks customer yet, so no journal entry line "
            "can name it.",
            "Open Project details → Financials and link the project to its QuickBooks customer "
            "first.",
        )
    ]
