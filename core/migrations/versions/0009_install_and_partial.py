"""install id and the partial run state

Revision ID: 0009_install_and_partial
Revises: 0008_actual_popup_indexes
Create Date: 2026-12-04 06:00:00

`install` holds one row: this database's install id, made once here and kept, so that RQ job ids
and Redis keys of two installs (or a recreated or restored database) sharing one Redis never
collide (issue 18). `partial` is the run state of a pull that applied some records and could not
map others.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0009_install_and_partial"
down_revision = "0008_actual_popup_indexes"
branch_labels = None
depends_on = None

RUN_OLD = ("queued", "running", "succeeded", "failed", "needs_admin", "skipped")
RUN_NEW = (*RUN_OLD, "partial")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def _states(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Swap sync_run.state's CHECK constraint for one with the new values."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("sync_run", recreate="always") as batch_op:
            batch_op.alter_column(
                "state",
                existing_type=_enum(old, "runstate"),
                type_=_enum(new, "runstate"),
                existing_nullable=False,
            )
        return
    op.drop_constraint(op.f("ck_sync_run_runstate"), "sync_run", type_="check")
    listed = ", ".join(f"'{v}'" for v in new)
    op.create_check_constraint(op.f("ck_sync_run_runstate"), "sync_run", f"state IN ({listed})")


def upgrade() -> None:
    install = op.create_table(
        "install",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("install_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_install")),
    )
    op.bulk_insert(
        install, [{"id": 1, "install_id": secrets.token_hex(6), "created_at": core.db.utcnow()}]
    )
    _states(RUN_OLD, RUN_NEW)


def downgrade() -> None:
    op.execute("UPDATE sync_run SET state = 'failed' WHERE state = 'partial'")
    _states(RUN_NEW, RUN_OLD)
    op.drop_table("install")
