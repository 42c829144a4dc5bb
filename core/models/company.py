"""A company and its one QuickBooks Online connection (realm)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
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


class ConnectionStatus(enum.StrEnum):
    """Where the company's QBO connection stands."""

    DISCONNECTED = "disconnected"
    CONNECTED = "connected"
    RECONNECT_NEEDED = "reconnect_needed"


class Company(Timestamps, Base):
    """A construction company; at most one QBO realm each.

    Tokens are stored encrypted (`*_token_enc`, Fernet via `core.crypto`); `token_version`
    rises by one on every refresh so a writer holding a stale lock cannot overwrite a newer
    token (fencing).
    """

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="America/Los_Angeles")
    home_currency: Mapped[str] = mapped_column(String(3), default="USD")
    realm_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    qbo_company_name: Mapped[str | None] = mapped_column(String(200))
    connection_status: Mapped[ConnectionStatus] = enum_column(
        ConnectionStatus, default=ConnectionStatus.DISCONNECTED
    )
    connection_problem: Mapped[str | None] = mapped_column(Text)
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    token_version: Mapped[int] = mapped_column(default=0)
    connected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        """Never shows tokens."""
        return f"<Company {self.id} {self.name!r} realm={self.realm_id}>"


class RealmLink(Base):
    """A link of a local record to a QuickBooks record of a realm the company left (archived).

    Written when a company switches to another QuickBooks company (`core.realm_switch`): its
    projects' customers (with class and location) and its cost codes', vendors' and employees'
    QuickBooks records are set aside per realm and cleared, so nothing points into the old
    company; a switch back puts them back. `local_kind` is the local table (`project`,
    `cost_code`, `vendor`, `employee`).
    """

    __tablename__ = "realm_link"
    __table_args__ = (UniqueConstraint("company_id", "realm_id", "local_kind", "local_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    realm_id: Mapped[str] = mapped_column(String(32))
    local_kind: Mapped[str] = mapped_column(String(40))
    local_id: Mapped[int] = mapped_column()
    #: The QuickBooks fields of the local row as they were (column name -> value).
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    archived_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
