"""Frozen values that plugins receive and return; never ORM rows a plugin could keep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Literal

SettingType = Literal["bool", "text", "int", "decimal", "cost_code"]

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "text": (str,),
    "int": (int,),
    "decimal": (Decimal, int),
    "cost_code": (int,),
}


@dataclass(frozen=True)
class SettingSpec:
    """One per-project setting a plugin contributes to the project settings form.

    Attributes:
        key: Unique across all plugins; stored under this name in the project's settings.
        label: What the admin sees next to the control.
        type: `bool`, `text`, `int`, `decimal` or `cost_code` (the id of one of the
            company's cost codes).
        default: Value while the admin has not chosen one (`None` means "not set").
        help: One sentence on what it does, shown under the control.
        requires: Keys of settings that must be set (truthy) before this one may be turned on.
        secret: Masked in the admin and never logged.
    """

    key: str
    label: str
    type: SettingType
    default: object = None
    help: str = ""
    requires: tuple[str, ...] = ()
    secret: bool = False

    def accepts(self, value: object) -> bool:
        """Whether `value` has this setting's type (`None` always means "not set")."""
        if value is None:
            return True
        if self.type != "bool" and isinstance(value, bool):
            return False
        if isinstance(value, Decimal) and not value.is_finite():
            return False
        return isinstance(value, _PY_TYPES[self.type])

    def to_stored(self, value: object) -> object:
        """The JSON-safe form kept in the project's settings (decimals as exact text)."""
        return str(value) if self.type == "decimal" and value is not None else value

    def from_stored(self, value: object) -> object:
        """The value as plugins see it (decimals back as `Decimal`)."""
        if self.type == "decimal" and isinstance(value, str):
            return Decimal(value)
        return value


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin is: its id, its label, the QBO entities it owns and its settings."""

    name: str
    label: str
    owns: tuple[str, ...] = ()
    settings: tuple[SettingSpec, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class ProjectView:
    """The project as a plugin sees it when settings are validated or a sync runs."""

    id: int
    company_id: int
    name: str
    qbo_customer_id: str | None
    settings: Mapping[str, object]


@dataclass(frozen=True)
class SettingProblem:
    """Why a setting cannot take the value the admin chose, and what to do instead."""

    key: str
    message: str
    fix: str = ""


@dataclass(frozen=True)
class SyncContext:
    """Everything a plugin needs during one pull or push call; valid only during the call.

    Attributes:
        project: The project being synced.
        realm_id: The QBO company (realm) of the project's company.
        session: An open SQLAlchemy session; the caller commits.
        now: The clock to use (tests steer it).
        run_id: The `SyncRun` row recording this work.
        client: The QBO client for the realm, when the call needs one.
    """

    project: ProjectView
    realm_id: str
    session: Any
    now: Callable[[], dt.datetime]
    run_id: int | None = None
    client: Any = None


@dataclass(frozen=True)
class EntityChange:
    """One changed or deleted QBO record, as QBO sent it."""

    entity: str
    id: str
    operation: Literal["Create", "Update", "Delete", "Void", "Merge", "Emailed"]
    record: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class EntityChanges:
    """A batch of changes from one CDC window, query page or webhook."""

    changes: tuple[EntityChange, ...]
    source: Literal["query", "cdc", "webhook"] = "cdc"

    def of(self, *entities: str) -> tuple[EntityChange, ...]:
        """The changes of the named entity types only."""
        return tuple(c for c in self.changes if c.entity in entities)


@dataclass(frozen=True)
class RecordProblem:
    """A record a plugin could not apply, and why, in an admin's words."""

    entity: str
    id: str
    message: str
    fix: str = ""


@dataclass(frozen=True)
class PullResult:
    """What a plugin did with a batch of changes."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    problems: tuple[RecordProblem, ...] = ()


@dataclass(frozen=True)
class PushRequest:
    """One local record to send to QBO, from an outbox row."""

    outbox_id: int
    entity: str
    local_kind: str
    local_id: int
    operation: Literal["create", "update", "delete"]
    idempotency_key: str


@dataclass(frozen=True)
class PushResult:
    """The QBO record a push produced."""

    qbo_id: str
    sync_token: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AttachmentRequest:
    """Which attachments to move: `push` local files up, or `pull` QBO files down."""

    direction: Literal["push", "pull"]
    entity: str
    local_id: int | None = None
    qbo_id: str | None = None


@dataclass(frozen=True)
class AttachmentResult:
    """How many files moved, and which could not."""

    transferred: int = 0
    problems: tuple[RecordProblem, ...] = ()
