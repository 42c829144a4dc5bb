"""A company and its one QuickBooks Online connection (realm)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from core.db import Base
from core.db import UTCDateTime
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
