"""Pull bill attachments: files attached in QBO to a project's bills, as read-only copies.

With a project's "pull bill attachments" setting on (off by default), every file attached in
QBO to a Bill with lines counting for the project is downloaded once, stored with origin QBO and
`read_only`, and linked to the first of the bill's counting actuals, so the budget's Applied
Actuals pop-up shows its paperclip and the Files tab lists it. The copy is keyed by the
Attachable's id in `RemoteMapping` (kind `attachment`), so a re-pull adds nothing; an
Attachable gone from QBO (or a bill no longer counting for the project) removes the copy.

It runs after a pull of the realm (`core.sync.jobs.pull_job`, `costbridge sync pull`), from the
actuals that pull wrote, and asks QBO nothing when no project of the company has the setting on
or none of their bills is in QBO. A file costbridge itself pushed is already mapped (origin
local) and is never copied back; a copy from QBO is never pushed (`outbox.record_change`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import CostbridgeError
from core.files import FileStore
from core.files import guess_type
from core.files import sanitise_name
from core.files import store_for
from core.models import Actual
from core.models import Attachment
from core.models import AttachmentOrigin
from core.models import Company
from core.models import ConnectionStatus
from core.models import Project
from core.models import RemoteMapping
from core.models import SyncRun
from core.plugins import PluginManager
from core.project_settings import effective_settings
from core.push.outbox import MARKER_PREFIX
from core.qbo import queries
from core.runtime import Runtime

SETTING = "pull_bill_attachments"
#: Bill ids per query: well inside QBO's IN-list and statement-length limits (API.md §4.2).
IDS_PER_QUERY = 200
log = logging.getLogger(__name__)
#: The marker costbridge writes into what it pushes (`outbox.marker`: prefix + 36 hex).
_OUR_MARKER = re.compile(re.escape(MARKER_PREFIX) + "[0-9a-f]{36}")


@dataclass
class AttachmentPull:
    """What one pass did: copies added, relinked and removed, and files that failed."""

    projects: int = 0
    requests: int = 0
    added: int = 0
    relinked: int = 0
    removed: int = 0
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The counts (JSON-safe), as the sync run keeps them."""
        return {
            "projects": self.projects,
            "requests": self.requests,
            "added": self.added,
            "relinked": self.relinked,
            "removed": self.removed,
            "problems": list(self.problems),
        }


def projects_pulling(session: Session, pm: PluginManager, company_id: int) -> list[Project]:
    """The company's linked projects with "pull bill attachments" on."""
    linked = session.scalars(
        select(Project)
        .where(Project.company_id == company_id, Project.qbo_customer_id.is_not(None))
        .order_by(Project.id)
    )
    return [p for p in linked if effective_settings(pm, p).get(SETTING)]


def pull_bill_attachments(
    rt: Runtime, company_id: int, *, run_id: int | None = None, client: Any = None
) -> AttachmentPull:
    """Bring the company's projects' bill attachments in step with QBO (after a pull).

    Args:
        rt: The runtime (database, plugins, instance folder for the file store).
        company_id: The company whose realm was just pulled.
        run_id: The pull's `SyncRun`; its counts get an `attachments` entry.
        client: A QBO client to use instead of the runtime's.

    Returns:
        What was added, relinked and removed. A failure is reported there, never raised: the
        pull itself succeeded, and the next one tries again.
    """
    report = AttachmentPull()
    with rt.sessions() as session:
        company = session.get(Company, company_id)
        if company is None or not company.realm_id:
            return report
        if company.connection_status != ConnectionStatus.CONNECTED:
            return report
        projects = projects_pulling(session, rt.pm, company_id)
        report.projects = len(projects)
        if not projects:
            return report
        if client is None:
            from core.qbo import client_for

            client = client_for(rt, company.realm_id)
        step = _Step(session, store_for(rt.settings.instance_path), company.realm_id, client)
        try:
            step.run([p.id for p in projects], report)
            session.commit()
        except CostbridgeError as exc:
            session.rollback()
            report.problems.append(f"{exc.message} {exc.fix}".strip())
        if run_id is not None:
            run = session.get(SyncRun, run_id)
            if run is not None:
                run.counts = {**(run.counts or {}), "attachments": report.as_json()}
                session.commit()
    return report


class _Step:
    """One pass over one realm's projects, in one session."""

    def __init__(self, session: Session, store: FileStore, realm_id: str, client: Any) -> None:
        self.session = session
        self.store = store
        self.realm_id = realm_id
        self.client = client

    def run(self, project_ids: list[int], report: AttachmentPull) -> None:
        # Each bill's first counting actual per project: where the paperclip goes.
        first_line: dict[str, tuple[int, int]] = {}
        for bill_id, project_id, actual_id in self.session.execute(
            select(Actual.qbo_id, Actual.project_id, func.min(Actual.id))
            .where(
                Actual.realm_id == self.realm_id,
                Actual.qbo_entity == "Bill",
                Actual.project_id.in_(project_ids),
                Actual.excluded_reason.is_(None),
            )
            .group_by(Actual.qbo_id, Actual.project_id)
            .order_by(func.min(Actual.id))
        ):
            # A bill split across two projects that both pull files: the copy goes with the
            # first counted line (RemoteMapping keeps one local copy per Attachable).
            if project_id is not None:
                first_line.setdefault(str(bill_id), (project_id, int(actual_id)))
        wanted = self._attachables(sorted(first_line), report) if first_line else {}
        mapped = {
            m.qbo_id: m
            for m in self.session.scalars(
                select(RemoteMapping).where(
                    RemoteMapping.realm_id == self.realm_id,
                    RemoteMapping.entity == "Attachable",
                    RemoteMapping.local_kind == "attachment",
                )
            )
        }
        copies = {
            a.id: a
            for a in self.session.scalars(
                select(Attachment).where(
                    Attachment.origin == AttachmentOrigin.QBO,
                    Attachment.project_id.in_(project_ids),
                )
            )
        }
        for qbo_id, (attachable, bill_id) in wanted.items():
            project_id, actual_id = first_line[bill_id]
            mapping = mapped.get(qbo_id)
            if mapping is None:
                self._add(attachable, project_id, actual_id, report)
                continue
            copy = copies.pop(mapping.local_id, None)
            if copy is not None and (copy.project_id, copy.actual_id) != (project_id, actual_id):
                copy.project_id, copy.actual_id = project_id, actual_id
                report.relinked += 1
        # What is left: Attachables deleted in QBO, or on bills no longer counting here.
        by_local = {m.local_id: m for m in mapped.values()}
        for copy in copies.values():
            gone = by_local.get(copy.id)
            if gone is not None:
                self.session.delete(gone)
            self.session.delete(copy)
            report.removed += 1
        self.session.flush()

    def _attachables(
        self, bill_ids: list[str], report: AttachmentPull
    ) -> dict[str, tuple[dict[str, Any], str]]:
        """File Attachables linked to these bills: Attachable id -> (Attachable, bill id)."""
        wanted = set(bill_ids)
        found: dict[str, tuple[dict[str, Any], str]] = {}
        for start in range(0, len(bill_ids), IDS_PER_QUERY):
            chunk = bill_ids[start : start + IDS_PER_QUERY]
            # API.md §7.1 gives this filter (exact syntax unconfirmed); the links are checked
            # here again because QBO matches an Attachable when any one of its links matches.
            conditions = (
                queries.eq("AttachableRef.EntityRef.Type", "Bill"),
                queries.in_("AttachableRef.EntityRef.value", chunk),
            )
            position = 1
            while True:
                statement = queries.select("Attachable", *conditions, start_position=position)
                rows = self.client.query(statement).get("Attachable", []) or []
                report.requests += 1
                for row in rows:
                    bill = _bill_of(row, wanted)
                    if bill is not None and row.get("FileName") and not _ours(row):
                        found[str(row["Id"])] = (row, bill)
                if len(rows) < queries.MAX_RESULTS:
                    break
                position += queries.MAX_RESULTS
        return found

    def _add(
        self, attachable: dict[str, Any], project_id: int, actual_id: int, report: AttachmentPull
    ) -> None:
        qbo_id = str(attachable["Id"])
        name = sanitise_name(str(attachable.get("FileName") or "attachment"))
        report.requests += 2  # the download URL, then the file
        try:
            content = self.client.download(qbo_id)
        except CostbridgeError as exc:
            # Left unmapped, so the next pull tries this file again.
            report.problems.append(f"{name} (Attachable {qbo_id}): {exc.message}")
            return
        key, digest = self.store.put(content)
        ctype = str(attachable.get("ContentType") or guess_type(name)).split(";")[0].strip()
        copy = Attachment(
            project_id=project_id,
            bill_id=None,
            actual_id=actual_id,
            origin=AttachmentOrigin.QBO,
            read_only=True,
            file_name=name,
            content_type=ctype[:100],
            size=len(content),
            sha256=digest,
            storage_key=key,
        )
        self.session.add(copy)
        self.session.flush()
        self.session.add(
            RemoteMapping(
                realm_id=self.realm_id,
                entity="Attachable",
                qbo_id=qbo_id,
                sync_token=str(attachable.get("SyncToken", "0")),
                local_kind="attachment",
                local_id=copy.id,
            )
        )
        self.session.flush()
        report.added += 1


def _bill_of(attachable: dict[str, Any], bill_ids: set[str]) -> str | None:
    """The first of `bill_ids` the Attachable is linked to, if any."""
    for link in attachable.get("AttachableRef", []) or []:
        ref = link.get("EntityRef") if isinstance(link, dict) else None
        if isinstance(ref, dict) and ref.get("type") == "Bill":
            value = str(ref.get("value"))
            if value in bill_ids:
                return value
    return None


def _ours(attachable: dict[str, Any]) -> bool:
    """Whether costbridge uploaded it (its marker is in the Note): never copied back.

    Its `RemoteMapping` normally says so already; the marker covers an upload whose mapping
    is not committed yet when this runs.
    """
    return _OUR_MARKER.search(str(attachable.get("Note") or "")) is not None
