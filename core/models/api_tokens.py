"""Per-user API tokens for the read API (`/api/v1`): only a hash of each is kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from core.db import Base
from core.db import UTCDateTime
from core.db import utcnow
from core.models.users import User


class ApiToken(Base):
    """A token an integration sends as `Authorization: Bearer TOKEN` to read as its user.

    The token itself is shown once, when it is made; the table keeps its SHA-256 (`token_hash`,
    enough for a random 256-bit secret: nothing to guess, so no slow hash is needed) and its first
    characters (`hint`) so people can tell their tokens apart. `scope` is what it may do: "read"
    is the only scope there is. A revoked token (`revoked_at`) or one whose user is disabled
    stops working at once. `last_used_at` is recorded at most once a minute per token.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(20), default="read")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(254))

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        """Whether the token was not revoked (its user's state is checked on use)."""
        return self.revoked_at is None

    def __repr__(self) -> str:
        """Never shows the hash."""
        return f"<ApiToken {self.id} {self.hint}… of user {self.user_id}>"
