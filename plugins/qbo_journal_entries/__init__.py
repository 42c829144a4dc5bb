"""Journal entries: job costs posted by QBO JournalEntry, as actuals of the project's job.

A sixth built-in plugin, written as a third party would write one: everything it is lives in
this folder, and it reaches costbridge through its entry point alone (docs/writing-a-plugin.md
walks through it).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from core import hookimpl
from core.contracts import CandidateLine
from core.contracts import Lookups
from core.contracts import PluginInfo
from core.contracts import ProjectView
from core.contracts import QboRecord
from core.contracts import SettingProblem
from plugins.qbo_journal_entries import pull
from plugins.qbo_journal_entries import settings as setting_rules


@hookimpl
def plugin_info() -> PluginInfo:
    """Journal entries own QBO's JournalEntry entity and two actual types."""
    return PluginInfo(
        name="qbo_journal_entries",
        label="Journal entries",
        owns=("JournalEntry",),
        actual_types=pull.ACTUAL_TYPES,
        settings=setting_rules.SETTINGS,
        description="Pulls job costs posted by journal entry: debits add cost, credits reduce it.",
    )


@hookimpl
def validate_settings(
    project: ProjectView, settings: Mapping[str, object]
) -> Sequence[SettingProblem]:
    """Counting journal entries needs a linked customer."""
    return setting_rules.problems(project, settings)


@hookimpl
def actual_lines(record: QboRecord, lookups: Lookups) -> Sequence[CandidateLine]:
    """Map one pulled JournalEntry to candidate actual lines."""
    return pull.lines(record, lookups)
