"""budget history: every change of a project's budget lines, who, when, old and new

Revision ID: 0016_budget_history
Revises: 0015_api_tokens
Create Date: 2026-12-04 09:00:00

Budgets are entered in the console's grid, imported from CSV and set from the CLI (issue 21);
each change of a line is kept in `budget_change`, beside the settings' `setting_change`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import Exact
from core.db import UTCDateTime

revision = "0016_budget_history"
down_revision = "0015_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("cost_code_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=240), nullable=False),
        sa.Column("old_amount", Exact(14, 2), nullable=True),
        sa.Column("new_amount", Exact(14, 2), nullable=True),
        sa.Column("old_description", sa.String(length=500), nullable=True),
        sa.Column("new_description", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cost_code_id"],
            ["cost_code.id"],
            name=op.f("fk_budget_change_cost_code_id_cost_code"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_budget_change_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_change")),
    )
    op.create_index(
        op.f("ix_budget_change_project_id"), "budget_change", ["project_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_budget_change_project_id"), table_name="budget_change")
    op.drop_table("budget_change")
