"""People who sign in to the console, and what each may do there."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from core.db import Base
from core.db import UTCDateTime
from core.models._common import Timestamps
from core.models._common import enum_column


class Role(enum.StrEnum):
    """A console role (DESIGN.md, "Who uses it").

    `admin` may do everything; `support` works the queue (retries, cancels, syncs) and reads the
    rest; `viewer` only reads.
    """

    ADMIN = "admin"
    SUPPORT = "support"
    VIEWER = "viewer"


class User(Timestamps, Base):
    """A console user. The password is kept only as a salted hash (`admin.passwords`).

    `session_epoch` rises on sign-out and password change: every session cookie carrying an
    older epoch stops working at once (server-side invalidation of cookie sessions).
    """

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = enum_column(Role, default=Role.VIEWER)
    active: Mapped[bool] = mapped_column(default=True)
    session_epoch: Mapped[int] = mapped_column(default=0)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Limited to the companies in `user_company` (False: every company). Kept apart from the
    #: rows so that deleting a limited user's last company leaves them seeing none, not all.
    limited: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        """Never shows the hash."""
        return f"<User {self.id} {self.email} {self.role.value}>"


class UserCompany(Base):
    """One company a limited user (`User.limited`) may see.

    Read only through `core.scope.visible_company_ids`; written by `core.users.set_companies`.
    """

    __tablename__ = "user_company"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), primary_key=True, index=True
    )
