"""switching a company to another QuickBooks company: confirmed sign-ins, archived links

Revision ID: 0012_realm_switch
Revises: 0011_push_attempts
Create Date: 2026-12-06 10:00:00

`oauth_state.allow_switch` records that the admin confirmed a switch to another QuickBooks
company before the sign-in started (the callback refuses a different realm otherwise).
`realm_link` keeps the QuickBooks links of a company's projects and catalog per realm it left,
so a switch back restores them (issue 22).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0012_realm_switch"
down_revision = "0011_push_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_state") as batch_op:
        batch_op.add_column(
            sa.Column("allow_switch", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("oauth_state") as batch_op:
        batch_op.alter_column("allow_switch", server_default=None)
    op.create_table(
        "realm_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.String(length=32), nullable=False),
        sa.Column("local_kind", sa.String(length=40), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("archived_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_realm_link_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realm_link")),
        sa.UniqueConstraint(
            "company_id",
            "realm_id",
            "local_kind",
            "local_id",
            name=op.f("uq_realm_link_company_id_realm_id_local_kind_local_id"),
        ),
    )
    op.create_index(op.f("ix_realm_link_company_id"), "realm_link", ["company_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_realm_link_company_id"), table_name="realm_link")
    op.drop_table("realm_link")
    with op.batch_alter_table("oauth_state") as batch_op:
        batch_op.drop_column("allow_switch")
