"""console users: sign-in with roles (admin, support, viewer)

Revision ID: 0007_users
Revises: 0006_webhook_inbox
Create Date: 2026-11-29 17:40:00

A new table only (issue 14): `app_user` with a salted password hash, a role and a session epoch.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0007_users'
down_revision = '0006_webhook_inbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'support', 'viewer', name='role', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('last_sign_in_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('email', name=op.f('uq_app_user_email'))
    )


def downgrade() -> None:
    op.drop_table('app_user')
