"""Projects, their link to a QBO customer, and their integration settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from core.db import Base
from core.db import UTCDateTime
from core.db import utcnow
from core.models._common import Timestamps
from core.models.company import Company


def _installed_now() -> list[str]:
    from core.plugins import installed_plugin_names

    return installed_plugin_names()


class Project(Timestamps, Base):
    """A construction project, synced once linked to a QBO customer, sub-customer or Project.

    `settings` holds the admin's choices by setting key (see `SettingSpec`); a key that is absent
    takes the plugin's default. `enabled_plugins` lists the plugins the project uses: a new
    project gets every plugin installed when it is created, and a plugin installed later stays
    off until an admin enables it (`core.project_settings.set_plugin_enabled`). `None` means
    every installed plugin (tests and old rows only).
    """

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(40))
    qbo_customer_id: Mapped[str | None] = mapped_column(String(32))
    qbo_customer_name: Mapped[str | None] = mapped_column(String(500))
    #: Defaults for pushed records, when the company tracks classes / locations in QBO.
    qbo_class_id: Mapped[str | None] = mapped_column(String(32))
    qbo_location_id: Mapped[str | None] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled_plugins: Mapped[list[str] | None] = mapped_column(JSON, default=_installed_now)

    company: Mapped[Company] = relationship()

    def enabled_plugin_names(self, installed: list[str]) -> list[str]:
        """The installed plugins this project uses."""
        if self.enabled_plugins is None:
            return list(installed)
        return [name for name in installed if name in self.enabled_plugins]

    @property
    def linked(self) -> bool:
        """Whether the project can sync at all."""
        return bool(self.qbo_customer_id)


class SettingChange(Base):
    """Every change of a project setting: who, when, from what to what.

    Some behaviour depends on *when* a toggle was turned on (time entries sync only if created
    after time tracking was enabled), so the history is kept, not just the current value.
    """

    __tablename__ = "setting_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(100))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    changed_by: Mapped[str | None] = mapped_column(String(200))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
