"""Push kinds: what plugins send to QBO, registered from what they declare in `plugin_info`.

A plugin declares each kind it sends with a `PushKindSpec`: the outbox kind, the core's local
record it reads (`core.push.readers`), the QBO entity it becomes and the project settings that
must be on. The core names none of them: which kind a local row is, which entity it becomes,
which plugin maps it and which toggles gate it all come from here. Two plugins declaring one
kind (or one local record) are both refused when the plugin manager loads them
(`core.plugins.PluginManager.infos`); a kind reading a record the core does not have, or gated
by a setting nobody declares, is left out here and logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import PushKindSpec
from core.models import Project
from core.models import SettingChange
from core.plugins import PluginManager
from core.project_settings import effective_settings
from core.push.readers import READERS
from core.push.readers import RecordReader
from core.push.readers import reader_of_row

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushKind:
    """A registered push kind: the plugin's declaration, who made it, and its record reader."""

    spec: PushKindSpec
    plugin: str
    reader: RecordReader

    @property
    def name(self) -> str:
        """The outbox kind (`OutboxEntry.local_kind`, `RemoteMapping.local_kind`)."""
        return self.spec.kind

    @property
    def entity(self) -> str:
        """The QBO entity its records become."""
        return self.spec.entity

    def switched_on(self, settings: Mapping[str, object]) -> bool:
        """Whether every toggle of the kind is on in a project's effective settings."""
        return all(settings.get(key) for key in self.spec.toggles)

    def first_off(self, settings: Mapping[str, object]) -> str | None:
        """The key of the first toggle that is off, if any."""
        return next((key for key in self.spec.toggles if not settings.get(key)), None)


class PushKinds:
    """Every push kind the loaded plugins declare, by kind name and by local record."""

    def __init__(self, kinds: Iterable[PushKind]) -> None:
        """Index `kinds` (already checked: one per name and per record)."""
        self._by_name = {k.name: k for k in kinds}
        self._by_record = {k.reader.name: k for k in self._by_name.values()}

    @classmethod
    def of(cls, pm: PluginManager) -> PushKinds:
        """The kinds `pm`'s plugins declare (worked out again whenever its plugins change)."""
        infos = pm.infos
        cached = _CACHE.get(pm)
        if cached is not None and cached[0] is infos:
            return cached[1]
        settings = pm.setting_specs()
        kinds = []
        for name, info in infos.items():
            for spec in info.push_kinds:
                problem = _problem(spec, settings)
                if problem is not None:
                    log.error(
                        "costbridge plugin %s: push kind %r left out: %s", name, spec.kind, problem
                    )
                    continue
                kinds.append(PushKind(spec, name, READERS[spec.record]))
        registry = cls(kinds)
        _CACHE[pm] = (infos, registry)
        return registry

    def __iter__(self) -> Iterator[PushKind]:
        """The kinds, by name."""
        return iter(sorted(self._by_name.values(), key=lambda k: k.name))

    def names(self) -> list[str]:
        """Every registered kind name, sorted."""
        return sorted(self._by_name)

    def get(self, name: str) -> PushKind | None:
        """The kind of that name, if a loaded plugin declares it."""
        return self._by_name.get(name)

    def for_record(self, record: str) -> PushKind | None:
        """The kind that sends a local record (`bill`, `file`, ...), if any plugin declares one."""
        return self._by_record.get(record)

    def kind_of(self, row: object) -> PushKind | None:
        """The kind a local ORM row goes up as; None when no loaded plugin sends it."""
        reader = reader_of_row(row)
        return self.for_record(reader.name) if reader is not None else None

    def children_of(self, kind: PushKind) -> list[PushKind]:
        """Kinds whose records go up under a record of `kind` (files of a bill)."""
        return [
            k
            for k in self
            if k.reader.parent is not None and k.reader.parent[0] == kind.reader.name
        ]


_CACHE: weakref.WeakKeyDictionary[PluginManager, tuple[object, PushKinds]] = (
    weakref.WeakKeyDictionary()
)


def _problem(spec: PushKindSpec, settings: Mapping[str, object]) -> str | None:
    if spec.record not in READERS:
        return (
            f"costbridge has no local record {spec.record!r} (it has {', '.join(sorted(READERS))})"
        )
    missing = [key for key in spec.toggles if key not in settings]
    if missing:
        return f"its toggle {missing[0]!r} is not a setting any plugin declares"
    if spec.only_after_toggle and not spec.toggles:
        return "only_after_toggle needs a toggle"
    return None


def kind_names(pm: PluginManager) -> list[str]:
    """The push kinds the loaded plugins declare (what `costbridge outbox` may show)."""
    return PushKinds.of(pm).names()


def kind_of(pm: PluginManager, row: object) -> str | None:
    """The outbox kind of a local ORM row (`Bill`, `Attachment`, ...); None if none is sent."""
    kind = PushKinds.of(pm).kind_of(row)
    return kind.name if kind is not None else None


def toggle_on_at(session: Session, project: Project, key: str, when: dt.datetime) -> bool:
    """Whether a project's setting `key` was on at `when`, from the project's setting history."""
    change = session.scalar(
        select(SettingChange)
        .where(
            SettingChange.project_id == project.id,
            SettingChange.key == key,
            SettingChange.changed_at <= when,
        )
        .order_by(SettingChange.changed_at.desc(), SettingChange.id.desc())
        .limit(1)
    )
    return bool(change is not None and change.new_value)


def records_now(
    session: Session, pm: PluginManager, project: Project, kind: PushKind, created_at: dt.datetime
) -> bool:
    """Whether a new record of `kind` made at `created_at` is to be sent to QBO.

    Every toggle must be on now; for a kind sent `only_after_toggle`, the first toggle must also
    have been on at the moment the record was made (never retroactive).
    """
    if not kind.switched_on(effective_settings(pm, project)):
        return False
    if kind.spec.only_after_toggle:
        return toggle_on_at(session, project, kind.spec.toggles[0], created_at)
    return True
