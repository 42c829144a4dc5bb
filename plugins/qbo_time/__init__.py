"""Time: entries pushed as QBO TimeActivity, and TimeActivity pulled back as actuals."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from core import hookimpl
from core.contracts import CandidateLine
from core.contracts import LocalRecord
from core.contracts import LocalTimeEntry
from core.contracts import Lookups
from core.contracts import PluginInfo
from core.contracts import ProjectView
from core.contracts import PushKindSpec
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.contracts import QboRecord
from core.contracts import SettingProblem
from plugins._checks import needs_link
from plugins.qbo_time import pull
from plugins.qbo_time import push
from plugins.qbo_time import settings


@hookimpl
def plugin_info() -> PluginInfo:
    """Time owns QBO's TimeActivity entity."""
    return PluginInfo(
        name="qbo_time",
        label="Time",
        owns=("TimeActivity",),
        actual_types=pull.ACTUAL_TYPES,
        settings=settings.SETTINGS,
        description="Pushes time entries as time charges and pulls them back as actuals.",
        push_kinds=(
            PushKindSpec(
                "time_entry",
                record="time_entry",
                entity="TimeActivity",
                toggles=("time_tracking",),
                only_after_toggle=True,
            ),
        ),
    )


@hookimpl
def validate_settings(
    project: ProjectView, settings: Mapping[str, object]
) -> Sequence[SettingProblem]:
    """Time tracking needs a linked customer."""
    return needs_link(project, settings, "time_tracking")


@hookimpl
def actual_lines(record: QboRecord, lookups: Lookups) -> Sequence[CandidateLine]:
    """Map one pulled record to candidate actual lines."""
    return pull.lines(record, lookups)


@hookimpl
def push_payload(record: LocalRecord, lookups: PushLookups) -> QboPayload | None:
    """Time entries go up as TimeActivity."""
    if isinstance(record, LocalTimeEntry):
        return push.time_activity(record, lookups)
    return None
