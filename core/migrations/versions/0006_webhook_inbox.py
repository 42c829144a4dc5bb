"""webhook inbox, one-time OAuth states, revocations awaiting Intuit's confirmation

Revision ID: 0006_webhook_inbox
Revises: 0005_push_ledger
Create Date: 2026-11-29 17:19:40

New tables only (issue 13): `webhook_delivery` (UNIQUE per realm, entity, id, operation and
lastUpdated), `oauth_state`, `pending_revocation`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0006_webhook_inbox'
down_revision = '0005_push_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('realm_id', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('operation', sa.String(length=16), nullable=False),
    sa.Column('last_updated_raw', sa.String(length=64), nullable=False),
    sa.Column('last_updated', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_id', sa.String(length=64), nullable=True),
    sa.Column('state', sa.Enum('received', 'queued', 'done', name='deliverystate', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('received_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('queued_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('job_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('realm_id', 'entity', 'entity_id', 'operation', 'last_updated_raw', name=op.f('uq_webhook_delivery_realm_id_entity_entity_id_operation_last_updated_raw'))
    )
    op.create_index('ix_webhook_delivery_entity', 'webhook_delivery', ['realm_id', 'entity', 'entity_id'], unique=False)
    op.create_index('ix_webhook_delivery_state', 'webhook_delivery', ['state', 'received_at'], unique=False)
    op.create_table('oauth_state',
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_oauth_state_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('state_hash', name=op.f('pk_oauth_state'))
    )
    op.create_table('pending_revocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('realm_id', sa.String(length=32), nullable=True),
    sa.Column('token_enc', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_pending_revocation_company_id_company'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_revocation'))
    )
    op.create_index(op.f('ix_pending_revocation_company_id'), 'pending_revocation', ['company_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pending_revocation_company_id'), table_name='pending_revocation')
    op.drop_table('pending_revocation')
    op.drop_table('oauth_state')
    op.drop_index('ix_webhook_delivery_state', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_entity', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
