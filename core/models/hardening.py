"""Durable records behind the public endpoints: webhook inbox, OAuth states, pending revokes.

- `WebhookDelivery`: one row per change Intuit reported, UNIQUE on (realm, entity, id,
  operation, lastUpdated) (RELIABILITY.md §2, "Webhooks": Intuit signs no timestamp, so this
  key is the replay defence). Written in the transaction that accepts the POST; queued after.
- `OAuthState`: a `state` handed to Intuit, kept server-side (only its hash) and deleted by the
  one callback that presents it (ASVS 10.1.2, single use).
- `PendingRevocation`: a disconnected company's refresh token, kept encrypted until Intuit
  confirms the revocation (API.md §8.5); retried by the maintenance sweep.
"""

from __future__ import annotations

import datetime as dt
import enum

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
from core.models._common import enum_column


class DeliveryState(enum.StrEnum):
    """Where a stored webhook change stands."""

    RECEIVED = "received"  # stored; no job queued yet (Redis failed, or the process died)
    QUEUED = "queued"  # a webhook job was queued for it
    DONE = "done"  # the job recorded it and asked for the realm's pull


class WebhookDelivery(Base):
    """One change from one webhook POST (API.md §10.2/§10.3), stored before it is queued."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("realm_id", "entity", "entity_id", "operation", "last_updated_raw"),
        Index("ix_webhook_delivery_entity", "realm_id", "entity", "entity_id"),
        Index("ix_webhook_delivery_state", "state", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(16))
    #: `lastUpdated` (or CloudEvents `time`) exactly as Intuit sent it: part of the UNIQUE key.
    last_updated_raw: Mapped[str] = mapped_column(String(64))
    #: The same instant parsed, for "older than what was already applied" (None: unreadable,
    #: the change is kept and never taken for stale).
    last_updated: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[DeliveryState] = enum_column(DeliveryState, default=DeliveryState.RECEIVED)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[str | None] = mapped_column(String(100))

    def as_change(self) -> dict[str, str]:
        """The JSON-safe change the webhook job takes."""
        change = {
            "entity": self.entity,
            "id": self.entity_id,
            "operation": self.operation,
            "last_updated": self.last_updated_raw,
        }
        if self.deleted_id:
            change["deleted_id"] = self.deleted_id
        return change


class OAuthState(Base):
    """A pending OAuth `state`: only its SHA-256 is stored; the callback deletes it."""

    __tablename__ = "oauth_state"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The admin confirmed that this sign-in may switch the company to another QuickBooks
    #: company (`core.realm_switch`); without it the callback refuses a different realm.
    allow_switch: Mapped[bool] = mapped_column(default=False)


class PendingRevocation(Base):
    """A refresh token Intuit has not yet confirmed revoked (encrypted like the company's)."""

    __tablename__ = "pending_revocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id", ondelete="SET NULL"), index=True
    )
    realm_id: Mapped[str | None] = mapped_column(String(32))
    token_enc: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        """Never shows the token."""
        return f"<PendingRevocation {self.id} company={self.company_id} realm={self.realm_id}>"
