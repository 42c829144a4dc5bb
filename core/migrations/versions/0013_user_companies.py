"""company-scoped users: the companies a console user is limited to

Revision ID: 0013_user_companies
Revises: 0012_realm_switch
Create Date: 2026-12-04 09:00:00

`user_company` (user, company) lists the companies a limited user may see, and
`app_user.limited` says whether the user is limited at all (issue 22). Existing users are not
limited: they keep seeing every company.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_user_companies"
down_revision = "0012_realm_switch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(
            sa.Column("limited", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "user_company",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_user_company_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_user_company_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "company_id", name=op.f("pk_user_company")),
    )
    op.create_index(
        op.f("ix_user_company_company_id"), "user_company", ["company_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_user_company_company_id"), table_name="user_company")
    op.drop_table("user_company")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("limited")
