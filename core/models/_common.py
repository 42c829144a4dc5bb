"""Column helpers shared by the model modules."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Enum
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from core.db import Exact
from core.db import UTCDateTime
from core.db import utcnow

Money = Exact(14, 2)
Hours = Exact(9, 2)
Rate = Exact(12, 4)
#: Cost and exchange rates as QBO sends them (lineage; amounts are computed before rounding).
FineRate = Exact(18, 8)


def enum_column(kind: type[enum.Enum], **kwargs: Any) -> Any:
    """A VARCHAR enum column with a CHECK constraint, the same on PostgreSQL and SQLite."""
    return mapped_column(
        Enum(
            kind,
            native_enum=False,
            create_constraint=True,
            length=24,
            values_callable=lambda k: [m.value for m in k],
            name=kind.__name__.lower(),
            validate_strings=True,
        ),
        **kwargs,
    )


class Timestamps:
    """`created_at` and `updated_at`, in UTC, set by Python (freezegun can steer them)."""

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
