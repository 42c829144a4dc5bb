"""pull ledger: every QBO cost line of a realm kept with its lineage and exclusion reason

Revision ID: 0002_pull_ledger
Revises: 0001
Create Date: 2026-11-29 17:40:00

Nothing wrote the `actual` table before this revision, so it is rebuilt rather than altered.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0002_pull_ledger'
down_revision = '0001'
branch_labels = None
depends_on = None


def _attachment_fk(create: bool) -> None:
    # attachment.actual_id points at actual; SQLite checks that only row by row (there are none).
    if op.get_bind().dialect.name == 'sqlite':
        return
    if create:
        op.create_foreign_key(op.f('fk_attachment_actual_id_actual'), 'attachment', 'actual', ['actual_id'], ['id'], ondelete='SET NULL')
    else:
        op.drop_constraint(op.f('fk_attachment_actual_id_actual'), 'attachment', type_='foreignkey')


def upgrade() -> None:
    _attachment_fk(create=False)
    op.drop_table('actual')
    op.create_table('actual',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('realm_id', sa.String(length=32), nullable=False),
    sa.Column('qbo_entity', sa.String(length=40), nullable=False),
    sa.Column('qbo_id', sa.String(length=32), nullable=False),
    sa.Column('qbo_line_id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=16), nullable=True),
    sa.Column('plugin', sa.String(length=100), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('customer_ref', sa.String(length=32), nullable=True),
    sa.Column('customer_name', sa.String(length=500), nullable=True),
    sa.Column('cost_code_id', sa.Integer(), nullable=True),
    sa.Column('actual_type', sa.Enum('bill', 'expense', 'check', 'credit_card', 'credit_card_credit', 'bank_transaction', 'time', 'vendor_credit', name='actualtype', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('txn_date', sa.Date(), nullable=False),
    sa.Column('payee', sa.String(length=500), nullable=True),
    sa.Column('doc_number', sa.String(length=40), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('billable_status', sa.String(length=20), nullable=True),
    sa.Column('hours', core.db.Exact(precision=9, scale=2), nullable=True),
    sa.Column('cost_rate', core.db.Exact(precision=18, scale=8), nullable=True),
    sa.Column('amount', core.db.Exact(precision=14, scale=2), nullable=False),
    sa.Column('qbo_item_id', sa.String(length=32), nullable=True),
    sa.Column('item_name', sa.String(length=500), nullable=True),
    sa.Column('account_id', sa.String(length=32), nullable=True),
    sa.Column('account_name', sa.String(length=500), nullable=True),
    sa.Column('class_id', sa.String(length=32), nullable=True),
    sa.Column('class_name', sa.String(length=500), nullable=True),
    sa.Column('location_id', sa.String(length=32), nullable=True),
    sa.Column('location_name', sa.String(length=500), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('exchange_rate', core.db.Exact(precision=18, scale=8), nullable=True),
    sa.Column('original_amount', core.db.Exact(precision=14, scale=2), nullable=True),
    sa.Column('exclusions', sa.JSON(), nullable=False),
    sa.Column('excluded_reason', sa.Text(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('qbo_updated_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sync_run_id', sa.Integer(), nullable=True),
    sa.Column('pulled_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cost_code_id'], ['cost_code.id'], name=op.f('fk_actual_cost_code_id_cost_code'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_actual_project_id_project'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sync_run_id'], ['sync_run.id'], name=op.f('fk_actual_sync_run_id_sync_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actual')),
    sa.UniqueConstraint('realm_id', 'qbo_entity', 'qbo_id', 'qbo_line_id', name=op.f('uq_actual_realm_id_qbo_entity_qbo_id_qbo_line_id'))
    )
    op.create_index('ix_actual_project_counted', 'actual', ['project_id', 'excluded_reason'], unique=False)
    op.create_index('ix_actual_realm_customer', 'actual', ['realm_id', 'customer_ref'], unique=False)
    _attachment_fk(create=True)
    op.create_index('uq_budget_line_uncoded', 'budget_line', ['project_id'], unique=True, postgresql_where=sa.text('cost_code_id IS NULL'), sqlite_where=sa.text('cost_code_id IS NULL'))


def downgrade() -> None:
    op.drop_index('uq_budget_line_uncoded', table_name='budget_line')
    _attachment_fk(create=False)
    op.drop_table('actual')
    op.create_table('actual',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('cost_code_id', sa.Integer(), nullable=True),
    sa.Column('actual_type', sa.Enum('bill', 'expense', 'check', 'credit_card', 'credit_card_credit', 'bank_transaction', 'time', 'vendor_credit', name='actualtype', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('realm_id', sa.String(length=32), nullable=False),
    sa.Column('qbo_entity', sa.String(length=40), nullable=False),
    sa.Column('qbo_id', sa.String(length=32), nullable=False),
    sa.Column('qbo_line_id', sa.String(length=32), nullable=False),
    sa.Column('qbo_item_id', sa.String(length=32), nullable=True),
    sa.Column('txn_date', sa.Date(), nullable=False),
    sa.Column('payee', sa.String(length=500), nullable=True),
    sa.Column('doc_number', sa.String(length=40), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('billable_status', sa.String(length=20), nullable=True),
    sa.Column('hours', core.db.Exact(precision=9, scale=2), nullable=True),
    sa.Column('amount', core.db.Exact(precision=14, scale=2), nullable=False),
    sa.Column('qbo_updated_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pulled_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cost_code_id'], ['cost_code.id'], name=op.f('fk_actual_cost_code_id_cost_code'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_actual_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actual')),
    sa.UniqueConstraint('realm_id', 'qbo_entity', 'qbo_id', 'qbo_line_id', name=op.f('uq_actual_realm_id_qbo_entity_qbo_id_qbo_line_id'))
    )
    op.create_index(op.f('ix_actual_project_id'), 'actual', ['project_id'], unique=False)
    _attachment_fk(create=True)
