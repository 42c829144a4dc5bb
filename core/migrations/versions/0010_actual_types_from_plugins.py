"""actual types come from plugins: no CHECK constraint on actual.actual_type

Revision ID: 0010_actual_types_from_plugins
Revises: 0009_install_and_partial
Create Date: 2026-12-04 08:00:00

Plugins declare the actual types they produce (`PluginInfo.actual_types`) and the core registers
them, so installing a plugin with a new type needs no migration: the column keeps its VARCHAR(24)
and loses the CHECK constraint that listed the eight built-in types (issue 19).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_actual_types_from_plugins"
down_revision = "0009_install_and_partial"
branch_labels = None
depends_on = None

#: The types the constraint allowed before plugins declared them.
BUILT_IN = (
    "bill",
    "expense",
    "check",
    "credit_card",
    "credit_card_credit",
    "bank_transaction",
    "time",
    "vendor_credit",
)
CONSTRAINT = "ck_actual_actualtype"


def _listed() -> sa.Enum:
    return sa.Enum(*BUILT_IN, name="actualtype", native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a constraint: the table is copied without it.
        with op.batch_alter_table("actual", recreate="always") as batch_op:
            batch_op.alter_column(
                "actual_type",
                existing_type=_listed(),
                type_=sa.String(length=24),
                existing_nullable=False,
            )
        return
    op.drop_constraint(op.f(CONSTRAINT), "actual", type_="check")


def downgrade() -> None:
    # Actuals of types the old schema cannot hold came from plugins the old code does not have;
    # they are copies of QBO lines, and pulling again with such a plugin brings them back.
    listed = ", ".join(f"'{name}'" for name in BUILT_IN)
    op.execute(f"DELETE FROM actual WHERE actual_type NOT IN ({listed})")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("actual", recreate="always") as batch_op:
            batch_op.alter_column(
                "actual_type",
                existing_type=sa.String(length=24),
                type_=_listed(),
                existing_nullable=False,
            )
        return
    op.create_check_constraint(op.f(CONSTRAINT), "actual", f"actual_type IN ({listed})")
