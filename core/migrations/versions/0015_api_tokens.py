"""api tokens: per-user tokens for the read API, kept as hashes

Revision ID: 0015_api_tokens
Revises: 0014_class_location_lineage
Create Date: 2026-12-10 09:00:00

A new table only (issue 21): `api_token`, the SHA-256 of each token with its first characters,
its user, its scope ("read"), when it was made, last used and revoked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0015_api_tokens"
down_revision = "0014_class_location_lineage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_api_token_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_token_user_id"), table_name="api_token")
    op.drop_table("api_token")
