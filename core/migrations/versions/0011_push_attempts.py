"""push attempts: a re-sent refused change gets a new requestid; superseded rows; failure targets

Revision ID: 0011_push_attempts
Revises: 0010_actual_types_from_plugins
Create Date: 2026-12-05 09:00:00

`outbox.request_attempt` counts support's re-sends of a change QuickBooks definitively refused:
each goes under a new `requestid`, since QBO answers a reused one with the stored Fault (issue
21). `outbox.error_target` keeps the QBO record a failure points at ("Item:7"), so failures
group by what to fix. The `superseded` state is a refused write a later write of the same
record took the place of; existing ones are marked so here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_push_attempts"
down_revision = "0010_actual_types_from_plugins"
branch_labels = None
depends_on = None

OUTBOX_OLD = (
    "pending",
    "in_flight",
    "done",
    "unknown",
    "failed",
    "needs_admin",
    "blocked",
    "cancelled",
)
OUTBOX_NEW = (*OUTBOX_OLD, "superseded")


def _enum(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="outboxstate", native_enum=False, create_constraint=True, length=24
    )


def _states(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Swap outbox.state's CHECK constraint for one with the new values."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("outbox", recreate="always") as batch_op:
            batch_op.alter_column(
                "state", existing_type=_enum(old), type_=_enum(new), existing_nullable=False
            )
        return
    op.drop_constraint(op.f("ck_outbox_outboxstate"), "outbox", type_="check")
    listed = ", ".join(f"'{v}'" for v in new)
    op.create_check_constraint(op.f("ck_outbox_outboxstate"), "outbox", f"state IN ({listed})")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_target", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("request_attempt", sa.Integer(), nullable=False, server_default="0")
        )
    _states(OUTBOX_OLD, OUTBOX_NEW)
    op.execute(
        """
        UPDATE outbox SET state = 'superseded'
        WHERE state IN ('failed', 'needs_admin') AND EXISTS (
            SELECT 1 FROM outbox later
            WHERE later.company_id = outbox.company_id AND later.local_kind = outbox.local_kind
            AND later.local_id = outbox.local_id AND later.id > outbox.id
            AND later.state <> 'cancelled'
        )
        """
    )


def downgrade() -> None:
    op.execute("UPDATE outbox SET state = 'failed' WHERE state = 'superseded'")
    _states(OUTBOX_NEW, OUTBOX_OLD)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("request_attempt")
        batch_op.drop_column("error_target")
