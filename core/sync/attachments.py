"""Pulling attachments: files attached in QBO to a project's records, as read-only copies.

Which records' files come along is each entity's owner's call: after a pull, the plugin owning
an entity answers `pulls_attachments(entity, project)` for every linked project on which it is
enabled (`qbo_bills` says yes for Bill while the project's setting for it is on). For each yes,
every file attached in QBO to a record of that entity with lines counting for the project is
downloaded once, stored with origin QBO and `read_only`, and linked to the first of the record's
counting actuals, so the budget's Applied Actuals pop-up shows its paperclip and the Files tab
lists it. The copy is keyed by the Attachable's id in `RemoteMapping` (entity `Attachable`), so a
re-pull adds nothing; an Attachable gone from QBO (or a record no longer counting for the
project) removes the copy.

It runs after a pull of the realm (`core.sync.jobs.pull_job`, `costbridge sync pull`), from the
actuals that pull wrote, and asks QBO nothing when no plugin wants files for any project of the
company or none of their records is in QBO. A file costbridge itself pushed is already mapped
(origin local) and is never copied back; a copy from QBO is never pushed (`outbox.record_change`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import ProjectView
from core.errors import CostbridgeError
from core.files import FileStore
from core.files import guess_type
from core.files import sanitise_name
from core.files import store_for
from core.markers import carries_marker
from core.models import Actual
from core.models import Attachment
from core.models import AttachmentOrigin
from core.models import Company
from core.models import ConnectionStatus
from core.models import Project
from core.models import RemoteMapping
from core.models import SyncRun
from core.plugins import PluginManager
from core.plugins import call_one
from core.project_settings import project_view
from core.qbo import queries
from core.runtime import Runtime

#: Record ids per query: well inside QBO's IN-list and statement-length limits (API.md §4.2).
IDS_PER_QUERY = 200
#: QBO's entity for a file attached to a record.
ATTACHABLE = "Attachable"
log = logging.getLogger(__name__)


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


def projects_pulling(
    session: Session, pm: PluginManager, company_id: int
) -> dict[int, tuple[str, ...]]:
    """The company's linked projects whose plugins want files, with the entities they want.

    Asks the owner of every entity (when enabled on the project) its `pulls_attachments`; a
    plugin that raises is logged and counts as no.
    """
    owned = {entity: name for name, info in pm.infos.items() for entity in info.owns}
    answering = {pm.get_name(i.plugin) for i in pm.hook.pulls_attachments.get_hookimpls()}
    wanted: dict[int, tuple[str, ...]] = {}
    linked = session.scalars(
        select(Project)
        .where(Project.company_id == company_id, Project.qbo_customer_id.is_not(None))
        .order_by(Project.id)
    )
    for project in linked:
        enabled = set(project.enabled_plugin_names(pm.names())) & answering
        view = project_view(project, pm)
        entities = tuple(
            sorted(
                e for e, owner in owned.items() if owner in enabled and _wants(pm, owner, e, view)
            )
        )
        if entities:
            wanted[project.id] = entities
    return wanted


def _wants(pm: PluginManager, owner: str, entity: str, view: ProjectView) -> bool:
    try:
        return bool(call_one(pm, owner, "pulls_attachments", entity=entity, project=view))
    except Exception:  # noqa: BLE001 - one plugin's bug leaves its files in QBO, nothing more
        log.exception("costbridge plugin %s failed in pulls_attachments", owner)
        return False


def settings_pulling_files(pm: PluginManager, project: Project) -> dict[str, object]:
    """The on/off settings that, turned on, make one of the project's plugins pull files.

    Found by asking each plugin's `pulls_attachments` with the setting on and off, so the core
    needs to know no plugin's setting names (the demo turns them on to show paperclips).
    """
    view = project_view(project, pm)
    enabled = set(project.enabled_plugin_names(pm.names()))
    found: dict[str, object] = {}
    for key, (owner, spec) in sorted(pm.settings_applying(enabled).items()):
        if spec.type != "bool" or owner not in pm.infos or view.settings.get(key):
            continue
        trial = replace(view, settings={**view.settings, key: True})
        if any(
            _wants(pm, owner, entity, trial) and not _wants(pm, owner, entity, view)
            for entity in pm.infos[owner].owns
        ):
            found[key] = True
    return found


def pull_attachments(
    rt: Runtime, company_id: int, *, run_id: int | None = None, client: Any = None
) -> AttachmentPull:
    """Bring the copies of files attached in QBO in step with QBO (after a pull).

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
            step.run(projects, report)
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


#: The name the job and the CLI have called it by.
pull_bill_attachments = pull_attachments


class _Step:
    """One pass over one realm's projects, in one session."""

    def __init__(self, session: Session, store: FileStore, realm_id: str, client: Any) -> None:
        self.session = session
        self.store = store
        self.realm_id = realm_id
        self.client = client

    def run(self, projects: dict[int, tuple[str, ...]], report: AttachmentPull) -> None:
        # Each record's first counting actual per project: where the paperclip goes.
        first_line: dict[tuple[str, str], tuple[int, int]] = {}
        entities = sorted({e for wanted in projects.values() for e in wanted})
        for entity, record_id, project_id, actual_id in self.session.execute(
            select(Actual.qbo_entity, Actual.qbo_id, Actual.project_id, func.min(Actual.id))
            .where(
                Actual.realm_id == self.realm_id,
                Actual.qbo_entity.in_(entities),
                Actual.project_id.in_(sorted(projects)),
                Actual.excluded_reason.is_(None),
            )
            .group_by(Actual.qbo_entity, Actual.qbo_id, Actual.project_id)
            .order_by(func.min(Actual.id))
        ):
            # A record split across two projects that both pull files: the copy goes with the
            # first counted line (RemoteMapping keeps one local copy per Attachable).
            if project_id is not None and entity in projects[project_id]:
                first_line.setdefault((str(entity), str(record_id)), (project_id, int(actual_id)))
        wanted: dict[str, tuple[dict[str, Any], tuple[str, str]]] = {}
        for entity in entities:
            ids = sorted(r for e, r in first_line if e == entity)
            if ids:
                wanted.update(self._attachables(entity, ids, report))
        mapped = {
            m.qbo_id: m
            for m in self.session.scalars(
                select(RemoteMapping).where(
                    RemoteMapping.realm_id == self.realm_id,
                    RemoteMapping.entity == ATTACHABLE,
                )
            )
        }
        copies = {
            a.id: a
            for a in self.session.scalars(
                select(Attachment).where(
                    Attachment.origin == AttachmentOrigin.QBO,
                    Attachment.project_id.in_(sorted(projects)),
                )
            )
        }
        for qbo_id, (attachable, parent) in wanted.items():
            project_id, actual_id = first_line[parent]
            mapping = mapped.get(qbo_id)
            if mapping is None:
                self._add(attachable, project_id, actual_id, report)
                continue
            copy = copies.pop(mapping.local_id, None)
            if copy is None and self.session.get(Attachment, mapping.local_id) is None:
                # A mapping whose copy is gone (removed by an older version while another
                # realm was connected): the file is downloaded again, not skipped forever.
                self.session.delete(mapping)
                self.session.flush()
                self._add(attachable, project_id, actual_id, report)
                continue
            if copy is not None and (copy.project_id, copy.actual_id) != (project_id, actual_id):
                copy.project_id, copy.actual_id = project_id, actual_id
                report.relinked += 1
        # What is left: Attachables deleted in QBO, or on records no longer counting here. Their
        # mappings go with them, whichever realm they name, so none is left pointing at nothing.
        for copy in copies.values():
            self.session.execute(
                delete(RemoteMapping).where(
                    RemoteMapping.entity == ATTACHABLE,
                    RemoteMapping.local_kind == Attachment.__tablename__,
                    RemoteMapping.local_id == copy.id,
                )
            )
            self.session.delete(copy)
            report.removed += 1
        self.session.flush()

    def _attachables(
        self, entity: str, record_ids: list[str], report: AttachmentPull
    ) -> dict[str, tuple[dict[str, Any], tuple[str, str]]]:
        """File Attachables linked to these records: id -> (Attachable, (entity, record id))."""
        wanted = set(record_ids)
        found: dict[str, tuple[dict[str, Any], tuple[str, str]]] = {}
        for start in range(0, len(record_ids), IDS_PER_QUERY):
            chunk = record_ids[start : start + IDS_PER_QUERY]
            # API.md §7.1 gives this filter (exact syntax unconfirmed); the links are checked
            # here again because QBO matches an Attachable when any one of its links matches.
            conditions = (
                queries.eq("AttachableRef.EntityRef.Type", entity),
                queries.in_("AttachableRef.EntityRef.value", chunk),
            )
            position = 1
            while True:
                statement = queries.select(ATTACHABLE, *conditions, start_position=position)
                rows = self.client.query(statement).get(ATTACHABLE, []) or []
                report.requests += 1
                for row in rows:
                    parent = _parent_of(row, entity, wanted)
                    if parent is not None and row.get("FileName") and not _ours(row):
                        found[str(row["Id"])] = (row, (entity, parent))
                if len(rows) < queries.MAX_RESULTS:
                    break
                position += queries.MAX_RESULTS
        return found

    def _add(
        self, attachable: dict[str, Any], project_id: int, actual_id: int, report: AttachmentPull
    ) -> None:
        qbo_id = str(attachable["Id"])
        name = sanitise_name(str(attachable.get("FileName") or "file"))
        report.requests += 2  # the download URL, then the file
        try:
            content = self.client.download(qbo_id)
        except CostbridgeError as exc:
            # Left unmapped, so the next pull tries this file again.
            report.problems.append(f"{name} ({ATTACHABLE} {qbo_id}): {exc.message}")
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
                entity=ATTACHABLE,
                qbo_id=qbo_id,
                sync_token=str(attachable.get("SyncToken", "0")),
                # The local record it maps to: a row of the attachment table.
                local_kind=Attachment.__tablename__,
                local_id=copy.id,
            )
        )
        self.session.flush()
        report.added += 1


def _parent_of(attachable: dict[str, Any], entity: str, record_ids: Iterable[str]) -> str | None:
    """The first of `record_ids` (of `entity`) the Attachable is linked to, if any."""
    ids = set(record_ids)
    for link in attachable.get("AttachableRef", []) or []:
        ref = link.get("EntityRef") if isinstance(link, dict) else None
        if isinstance(ref, dict) and ref.get("type") == entity:
            value = str(ref.get("value"))
            if value in ids:
                return value
    return None


def _ours(attachable: dict[str, Any]) -> bool:
    """Whether costbridge uploaded it (its marker is in the Note): never copied back.

    Its `RemoteMapping` normally says so already; the marker covers an upload whose mapping
    is not committed yet when this runs.
    """
    return carries_marker(attachable.get("Note"))
