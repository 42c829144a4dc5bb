"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 16:27:46.768121
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('company',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('home_currency', sa.String(length=3), nullable=False),
    sa.Column('realm_id', sa.String(length=32), nullable=True),
    sa.Column('qbo_company_name', sa.String(length=200), nullable=True),
    sa.Column('connection_status', sa.Enum('disconnected', 'connected', 'reconnect_needed', name='connectionstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('connection_problem', sa.Text(), nullable=True),
    sa.Column('access_token_enc', sa.Text(), nullable=True),
    sa.Column('refresh_token_enc', sa.Text(), nullable=True),
    sa.Column('access_expires_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refresh_expires_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('connected_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company')),
    sa.UniqueConstraint('realm_id', name=op.f('uq_company_realm_id'))
    )
    op.create_table('remote_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('realm_id', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('qbo_id', sa.String(length=32), nullable=False),
    sa.Column('sync_token', sa.String(length=16), nullable=True),
    sa.Column('local_kind', sa.String(length=40), nullable=False),
    sa.Column('local_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_mapping')),
    sa.UniqueConstraint('realm_id', 'entity', 'qbo_id', name=op.f('uq_remote_mapping_realm_id_entity_qbo_id')),
    sa.UniqueConstraint('realm_id', 'local_kind', 'local_id', name=op.f('uq_remote_mapping_realm_id_local_kind_local_id'))
    )
    op.create_table('sync_cursor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('realm_id', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('position', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('full_sync_done', sa.Boolean(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_cursor')),
    sa.UniqueConstraint('realm_id', 'entity', name=op.f('uq_sync_cursor_realm_id_entity'))
    )
    op.create_table('cost_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('qbo_item_id', sa.String(length=32), nullable=True),
    sa.Column('qbo_item_name', sa.String(length=500), nullable=True),
    sa.Column('income_account_id', sa.String(length=32), nullable=True),
    sa.Column('income_account_name', sa.String(length=200), nullable=True),
    sa.Column('expense_account_id', sa.String(length=32), nullable=True),
    sa.Column('expense_account_name', sa.String(length=200), nullable=True),
    sa.Column('sells', sa.Boolean(), nullable=False),
    sa.Column('purchases', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_cost_code_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_code')),
    sa.UniqueConstraint('company_id', 'code', name=op.f('uq_cost_code_company_id_code'))
    )
    with op.batch_alter_table('cost_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_code_company_id'), ['company_id'], unique=False)

    op.create_table('employee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('qbo_employee_id', sa.String(length=32), nullable=True),
    sa.Column('cost_rate', core.db.Exact(precision=12, scale=4), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_employee_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employee'))
    )
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employee_company_id'), ['company_id'], unique=False)

    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('qbo_customer_id', sa.String(length=32), nullable=True),
    sa.Column('qbo_customer_name', sa.String(length=500), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('enabled_plugins', sa.JSON(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_project_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_company_id'), ['company_id'], unique=False)

    op.create_table('vendor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('qbo_vendor_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_vendor_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor'))
    )
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_company_id'), ['company_id'], unique=False)

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
    with op.batch_alter_table('actual', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actual_project_id'), ['project_id'], unique=False)

    op.create_table('bill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('bill_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('qbo_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_bill_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name=op.f('fk_bill_vendor_id_vendor'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill'))
    )
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_project_id'), ['project_id'], unique=False)

    op.create_table('budget_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('cost_code_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('budget_amount', core.db.Exact(precision=14, scale=2), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cost_code_id'], ['cost_code.id'], name=op.f('fk_budget_line_cost_code_id_cost_code'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_budget_line_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_line')),
    sa.UniqueConstraint('project_id', 'cost_code_id', name=op.f('uq_budget_line_project_id_cost_code_id'))
    )
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_line_project_id'), ['project_id'], unique=False)

    op.create_table('invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'sent', 'partially_paid', 'paid', 'void', name='invoicestatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('markup_percent', core.db.Exact(precision=12, scale=4), nullable=False),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('qbo_id', sa.String(length=32), nullable=True),
    sa.Column('balance', core.db.Exact(precision=14, scale=2), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_invoice_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice'))
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_project_id'), ['project_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('local_kind', sa.String(length=40), nullable=False),
    sa.Column('local_id', sa.Integer(), nullable=False),
    sa.Column('operation', sa.String(length=10), nullable=False),
    sa.Column('payload_version', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=36), nullable=False),
    sa.Column('state', sa.Enum('pending', 'in_flight', 'done', 'unknown', 'failed', 'needs_admin', 'blocked', name='outboxstate', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('qbo_id', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_outbox_company_id_company'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_outbox_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_outbox_state_lease', ['state', 'lease_until'], unique=False)

    op.create_table('setting_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('old_value', sa.JSON(), nullable=True),
    sa.Column('new_value', sa.JSON(), nullable=True),
    sa.Column('changed_by', sa.String(length=200), nullable=True),
    sa.Column('changed_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_setting_change_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_setting_change'))
    )
    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_setting_change_project_id'), ['project_id'], unique=False)

    op.create_table('sync_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('trigger', sa.String(length=40), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'succeeded', 'failed', 'needs_admin', name='runstate', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('job_id', sa.String(length=100), nullable=True),
    sa.Column('queued_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('fix', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_sync_run_company_id_company'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_sync_run_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_run'))
    )
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_run_company_id'), ['company_id'], unique=False)

    op.create_table('time_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('cost_code_id', sa.Integer(), nullable=True),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('hours', core.db.Exact(precision=9, scale=2), nullable=False),
    sa.Column('billable', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('qbo_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cost_code_id'], ['cost_code.id'], name=op.f('fk_time_entry_cost_code_id_cost_code'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], name=op.f('fk_time_entry_employee_id_employee'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_time_entry_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_entry'))
    )
    with op.batch_alter_table('time_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_entry_project_id'), ['project_id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('actual_id', sa.Integer(), nullable=True),
    sa.Column('origin', sa.Enum('local', 'qbo', name='attachmentorigin', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('read_only', sa.Boolean(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('qbo_attachable_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actual_id'], ['actual.id'], name=op.f('fk_attachment_actual_id_actual'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_attachment_bill_id_bill'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_attachment_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_project_id'), ['project_id'], unique=False)

    op.create_table('bill_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('cost_code_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('amount', core.db.Exact(precision=14, scale=2), nullable=False),
    sa.Column('billable', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_bill_line_bill_id_bill'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cost_code_id'], ['cost_code.id'], name=op.f('fk_bill_line_cost_code_id_cost_code'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_line'))
    )
    with op.batch_alter_table('bill_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_line_bill_id'), ['bill_id'], unique=False)

    op.create_table('invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('cost_code_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('amount', core.db.Exact(precision=14, scale=2), nullable=False),
    sa.Column('markup_amount', core.db.Exact(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['cost_code_id'], ['cost_code.id'], name=op.f('fk_invoice_line_cost_code_id_cost_code'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line'))
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_invoice_id'), ['invoice_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_line_invoice_id'))

    op.drop_table('invoice_line')
    with op.batch_alter_table('bill_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_line_bill_id'))

    op.drop_table('bill_line')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_project_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_bill_id'))

    op.drop_table('attachment')
    with op.batch_alter_table('time_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_entry_project_id'))

    op.drop_table('time_entry')
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_run_company_id'))

    op.drop_table('sync_run')
    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_setting_change_project_id'))

    op.drop_table('setting_change')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_state_lease')
        batch_op.drop_index(batch_op.f('ix_outbox_company_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_project_id'))

    op.drop_table('invoice')
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_line_project_id'))

    op.drop_table('budget_line')
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_project_id'))

    op.drop_table('bill')
    with op.batch_alter_table('actual', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actual_project_id'))

    op.drop_table('actual')
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_company_id'))

    op.drop_table('vendor')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_company_id'))

    op.drop_table('project')
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employee_company_id'))

    op.drop_table('employee')
    with op.batch_alter_table('cost_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_code_company_id'))

    op.drop_table('cost_code')
    op.drop_table('sync_cursor')
    op.drop_table('remote_mapping')
    op.drop_table('company')
