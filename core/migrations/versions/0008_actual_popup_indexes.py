"""actual: partial indexes for the budget's Applied Actuals pop-up

Revision ID: 0008_actual_popup_indexes
Revises: 0007_users
Create Date: 2026-11-29 17:55:00

A project's counting lines (excluded_reason IS NULL) newest first, per cost code or all, with
their amounts included for index-only sums (issue 14; bench/bench_console.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_actual_popup_indexes'
down_revision = '0007_users'
branch_labels = None
depends_on = None

COUNTED = sa.text('excluded_reason IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('actual', schema=None) as batch_op:
        batch_op.create_index(
            'ix_actual_counted_code_date',
            ['project_id', 'cost_code_id', 'txn_date', 'id'],
            unique=False,
            postgresql_include=['amount', 'actual_type'],
            postgresql_where=COUNTED,
            sqlite_where=COUNTED,
        )
        batch_op.create_index(
            'ix_actual_counted_date',
            ['project_id', 'txn_date', 'id'],
            unique=False,
            postgresql_include=['amount'],
            postgresql_where=COUNTED,
            sqlite_where=COUNTED,
        )


def downgrade() -> None:
    with op.batch_alter_table('actual', schema=None) as batch_op:
        batch_op.drop_index('ix_actual_counted_date')
        batch_op.drop_index('ix_actual_counted_code_date')
