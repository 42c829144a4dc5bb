"""The sync ledger: outbox, remote-id mapping, cursors and the sync-run log."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from core.db import Base
from core.db import UTCDateTime
from core.db import utcnow
from core.models._common import Timestamps
from core.models._common import enum_column


class OutboxState(enum.StrEnum):
    """Delivery state of one push; `unknown` means QBO may or may not have it (reconcile)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DONE = "done"
    UNKNOWN = "unknown"
    FAILED = "failed"
    NEEDS_ADMIN = "needs_admin"
    BLOCKED = "blocked"  # waiting for the company's QuickBooks connection; resumed on connect
    CANCELLED = "cancelled"  # support cancelled it; never sent again
    SUPERSEDED = "superseded"  # refused, then a later write of the record took its place


class OutboxEntry(Timestamps, Base):
    """A push waiting to happen, written in the same transaction as the local change.

    The RQ job carries only this row's id, so a flushed Redis loses nothing: the sweeper
    re-enqueues rows that are pending, unknown or whose lease ran out. `idempotency_key` is
    derived once and written into the QBO record as its marker; QBO's `requestid` is that key
    for the first request, and a new one each time support re-sends a change QBO definitively
    refused (`request_attempt`, `core.push.outbox.request_id`). The QBO id a delivery produced
    is kept in `RemoteMapping`, never here.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_lease", "state", "lease_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(40))
    local_kind: Mapped[str] = mapped_column(String(40))
    local_id: Mapped[int] = mapped_column()
    operation: Mapped[str] = mapped_column(String(10))
    payload_version: Mapped[int] = mapped_column(default=1)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    state: Mapped[OutboxState] = enum_column(OutboxState, default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The RQ job holding the lease (a batch job may hold rows queued under other ids).
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    #: The sync run recording the current delivery attempt.
    run_id: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    #: QBO's Fault code of the last failure ("6000", "5010"), when QBO answered with one.
    error_code: Mapped[str | None] = mapped_column(String(20))
    #: What the admin should do about the last failure.
    fix: Mapped[str | None] = mapped_column(Text)
    #: The QBO record the last failure points at, as "Entity:Id" ("Item:7"), when known.
    error_target: Mapped[str | None] = mapped_column(String(80))
    #: How many times support re-sent this write after QBO definitively refused it; each
    #: re-send goes under a new `requestid` (QBO replays a refused one's Fault).
    request_attempt: Mapped[int] = mapped_column(default=0, server_default="0")


class RemoteMapping(Timestamps, Base):
    """Which QBO record a local record became (or came from), per realm."""

    __tablename__ = "remote_mapping"
    __table_args__ = (
        UniqueConstraint("realm_id", "entity", "qbo_id"),
        UniqueConstraint("realm_id", "local_kind", "local_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(40))
    qbo_id: Mapped[str] = mapped_column(String(32))
    sync_token: Mapped[str | None] = mapped_column(String(16))
    local_kind: Mapped[str] = mapped_column(String(40))
    local_id: Mapped[int] = mapped_column()


class SyncCursor(Base):
    """How far a realm's changes have been pulled for one entity type.

    `position` advances to the moment the query *started*, and only after the writes it fed
    committed, so a change made during a pull is seen by the next one.
    """

    __tablename__ = "sync_cursor"
    __table_args__ = (UniqueConstraint("realm_id", "entity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(40))
    position: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    full_sync_done: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RunState(enum.StrEnum):
    """Where a sync run stands."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NEEDS_ADMIN = "needs_admin"
    SKIPPED = "skipped"  # nothing to do: another job held the change, or it was already sent
    PARTIAL = "partial"  # a pull applied some records and could not map others (named on the run)


class SyncRun(Base):
    """One job's record in the sync log: what ran, when, and what came of it."""

    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(40), default="manual")
    state: Mapped[RunState] = enum_column(RunState, default=RunState.QUEUED)
    job_id: Mapped[str | None] = mapped_column(String(100))
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)


class Install(Base):
    """This database's install id: one row, made by the migration that created the table.

    RQ job ids and costbridge's Redis keys carry it, so two installs sharing one Redis (or a
    database recreated or restored under a Redis that remembers the old one) never collide.
    """

    __tablename__ = "install"

    id: Mapped[int] = mapped_column(primary_key=True)
    install_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
