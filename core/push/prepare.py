"""Deciding one claimed outbox row up to its payload: what to send, or why nothing is sent.

In order: the project still exists; no earlier write of the same record is unfinished; the
plugin that declares the row's push kind is enabled for the project; the kind's toggles are on
(deletes go regardless); the local record still exists; a record that goes up under another
(a file under its bill) finds that one in QBO; QBO's books are open on the record's date. What
passes gets its frozen record and the `PushLookups` its mapper may read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import LocalRecord
from core.contracts import PushLookups
from core.contracts import RemoteRecord
from core.markers import marker
from core.models import CostCode
from core.models import Employee
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.models import RemoteMapping
from core.models import Vendor
from core.plugins import PluginManager
from core.project_settings import effective_settings
from core.push import outbox
from core.push.kinds import PushKind
from core.push.kinds import PushKinds
from core.push.outcome import Outcome


@dataclass(frozen=True)
class Prepared:
    """A row ready to map: its kind, its frozen record (None for a delete) and its lookups."""

    kind: PushKind
    record: LocalRecord | None
    lookups: PushLookups


def mapping_of(session: Session, local_kind: str, local_id: int) -> RemoteMapping | None:
    """The QBO record a local record became, if any."""
    return session.scalar(select(RemoteMapping).filter_by(local_kind=local_kind, local_id=local_id))


def parent_in_qbo(
    session: Session, kinds: PushKinds
) -> Callable[[str, int], tuple[str, str] | None]:
    """How a record reader finds the QBO record its record goes up under (a file's bill)."""

    def find(record: str, local_id: int) -> tuple[str, str] | None:
        kind = kinds.for_record(record)
        mapping = mapping_of(session, kind.name, local_id) if kind is not None else None
        return (mapping.entity, mapping.qbo_id) if mapping is not None else None

    return find


def build_lookups(
    session: Session,
    project: Project,
    settings: Mapping[str, object],
    remote: RemoteRecord | None,
    key: str,
) -> PushLookups:
    """Everything a push mapper may need about the project's company, read once."""
    company_id = project.company_id
    vendors = {
        v.id: v.qbo_vendor_id
        for v in session.scalars(
            select(Vendor).where(Vendor.company_id == company_id, Vendor.qbo_vendor_id.is_not(None))
        )
        if v.qbo_vendor_id
    }
    employees = {
        e.id: e.qbo_employee_id
        for e in session.scalars(
            select(Employee).where(
                Employee.company_id == company_id, Employee.qbo_employee_id.is_not(None)
            )
        )
        if e.qbo_employee_id
    }
    items: dict[int, str] = {}
    names: dict[int, str] = {}
    problems: dict[int, str] = {}
    for code in session.scalars(select(CostCode).where(CostCode.company_id == company_id)):
        names[code.id] = code.label
        problem = code.usability_problem()
        if problem is None and code.qbo_item_id:
            items[code.id] = code.qbo_item_id
        else:
            problems[code.id] = problem or "not connected to a QuickBooks Product/Service"
    return PushLookups(
        settings=settings,
        customer_id=project.qbo_customer_id,
        vendors=vendors,
        employees=employees,
        items=items,
        cost_code_names=names,
        cost_code_problems=problems,
        class_id=project.qbo_class_id,
        location_id=project.qbo_location_id,
        remote=remote,
        marker=marker(key),
    )


def prepare(
    session: Session,
    pm: PluginManager,
    entry: OutboxEntry,
    books_closed_on: Callable[[], dt.date | None],
) -> Outcome | Prepared:
    """Decide a row up to its payload: an `Outcome` when it ends here, else what to map.

    Args:
        session: The job's session.
        pm: The plugin manager (the kind's declaring plugin maps the row).
        entry: The claimed row.
        books_closed_on: QBO's closed-books date (asked only for a record with a date).
    """
    project = session.get(Project, entry.project_id) if entry.project_id else None
    if project is None:
        return Outcome(OutboxState.CANCELLED, "The project of this change no longer exists.")
    if outbox.open_predecessors(session, entry):
        return Outcome(OutboxState.PENDING, "Waits for an earlier change of the same record.")
    kinds = PushKinds.of(pm)
    kind = kinds.get(entry.local_kind)
    if kind is None:
        return Outcome(
            OutboxState.NEEDS_ADMIN,
            f"No installed plugin sends {entry.local_kind} records ({entry.entity}) to QuickBooks.",
            "Ask support which plugin to install or unblock; the change waits in the queue.",
        )
    if kind.plugin not in project.enabled_plugin_names(pm.names()):
        return Outcome(
            OutboxState.NEEDS_ADMIN,
            f"No enabled plugin sends {entry.entity} records to QuickBooks.",
            "Enable the plugin for this project, or ask support which one to install.",
        )
    settings = effective_settings(pm, project)
    toggle = kind.first_off(settings)
    if entry.operation != "delete" and toggle is not None:
        spec = pm.setting_specs().get(toggle)
        label = spec[1].label if spec else toggle
        return Outcome(
            OutboxState.NEEDS_ADMIN,
            f"“{label}” is off for this project, so this change was not sent.",
            f"Turn on “{label}” in Project settings, then retry it from the queue.",
        )
    mapping = mapping_of(session, entry.local_kind, entry.local_id)
    remote = RemoteRecord(mapping.qbo_id, mapping.sync_token or "0") if mapping else None
    record = None
    if entry.operation != "delete":
        record = kind.reader.load(session, entry.local_id, parent_in_qbo(session, kinds))
        if record is None:
            return Outcome(OutboxState.CANCELLED, "Deleted here before it was sent.")
        waiting = _parent_missing(session, kinds, kind, entry)
        if waiting is not None:
            return waiting
        when = kind.reader.booked_on(record)
        closed = books_closed_on() if when is not None else None
        if when is not None and closed is not None and when <= closed:
            return Outcome(
                OutboxState.NEEDS_ADMIN,
                f"QuickBooks' books are closed up to {closed.isoformat()}, and this record is "
                f"dated {when.isoformat()}; nothing was sent.",
                "Change the date to after the closing date, or ask the accountant to reopen "
                "the books in QuickBooks (Account and settings → Advanced → Close the books).",
            )
    lookups = build_lookups(session, project, settings, remote, entry.idempotency_key)
    return Prepared(kind, record, lookups)


def _parent_missing(
    session: Session, kinds: PushKinds, kind: PushKind, entry: OutboxEntry
) -> Outcome | None:
    """A record going up under another (a file under its bill) waits until that one is in QBO."""
    parent = kind.reader.parent_of(session, entry.local_id)
    if parent is None:
        return None
    parent_kind = kinds.for_record(parent[0])
    if parent_kind is not None and mapping_of(session, parent_kind.name, parent[1]) is not None:
        return None
    what = parent_kind.entity.lower() if parent_kind is not None else parent[0]
    if parent_kind is not None and outbox.open_writes(
        session, entry.company_id, parent_kind.name, parent[1]
    ):
        return Outcome(OutboxState.PENDING, f"Waits for its {what} to reach QuickBooks.")
    return Outcome(
        OutboxState.NEEDS_ADMIN,
        f"This file's {what} is not in QuickBooks, so the file cannot be attached there.",
        f"Send the {what} first (check it in the queue), then retry the file.",
    )
