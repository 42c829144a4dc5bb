"""Bills: pulled as actuals, pushed as unpaid QBO Bills, with their files."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from core import hookimpl
from core.contracts import CandidateLine
from core.contracts import LocalBill
from core.contracts import LocalFile
from core.contracts import LocalRecord
from core.contracts import Lookups
from core.contracts import PluginInfo
from core.contracts import ProjectView
from core.contracts import PushKindSpec
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.contracts import QboRecord
from core.contracts import SettingProblem
from plugins._checks import needs_link
from plugins.qbo_bills import pull
from plugins.qbo_bills import push
from plugins.qbo_bills import settings


@hookimpl
def plugin_info() -> PluginInfo:
    """Bills own QBO's Bill entity."""
    return PluginInfo(
        name="qbo_bills",
        label="Bills",
        owns=("Bill",),
        actual_types=pull.ACTUAL_TYPES,
        settings=settings.SETTINGS,
        description="Pulls QuickBooks bills into budgets; pushes bills created here as unpaid.",
        push_kinds=(
            PushKindSpec("bill", record="bill", entity="Bill", toggles=("push_bills",)),
            PushKindSpec(
                "attachment",
                record="file",
                entity="Attachable",
                toggles=("push_bills", "push_bill_attachments"),
            ),
        ),
    )


@hookimpl
def validate_settings(
    project: ProjectView, settings: Mapping[str, object]
) -> Sequence[SettingProblem]:
    """Pushing bills and pulling their files need a linked customer."""
    return needs_link(project, settings, "push_bills", "pull_bill_attachments")


@hookimpl
def actual_lines(record: QboRecord, lookups: Lookups) -> Sequence[CandidateLine]:
    """Map one pulled record to candidate actual lines."""
    return pull.lines(record, lookups)


@hookimpl
def pulls_attachments(entity: str, project: ProjectView) -> bool:
    """Files attached in QBO to the project's bills are copied here when it says so."""
    return settings.pulls_files(entity, project.settings)


@hookimpl
def push_payload(record: LocalRecord, lookups: PushLookups) -> QboPayload | None:
    """Bills go up as unpaid QBO Bills; their files as Attachables linked to them."""
    if isinstance(record, LocalBill):
        return push.bill(record, lookups)
    if isinstance(record, LocalFile):
        return push.attachment(record, lookups)
    return None
