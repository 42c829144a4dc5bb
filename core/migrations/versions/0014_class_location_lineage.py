"""QBO classes and locations: a copy for drop-downs, and per-record overrides

Revision ID: 0014_class_location_lineage
Revises: 0013_user_companies
Create Date: 2026-12-10 09:00:00

`tracking_category` keeps the company's QBO Classes and Departments (QBO's "locations") so
forms offer them by name; bills, invoices (per line for the class, per document for the
location, as QBO keeps them) and time entries may name their own over the project's defaults.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_class_location_lineage"
down_revision = "0013_user_companies"
branch_labels = None
depends_on = None

#: (table, column) of each per-record override.
OVERRIDES = (
    ("bill", "qbo_location_id"),
    ("bill_line", "qbo_class_id"),
    ("invoice", "qbo_location_id"),
    ("invoice_line", "qbo_class_id"),
    ("time_entry", "qbo_class_id"),
    ("time_entry", "qbo_location_id"),
)


def upgrade() -> None:
    op.create_table(
        "tracking_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("full_name", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_tracking_category_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_category")),
        sa.UniqueConstraint(
            "company_id", "kind", "qbo_id", name=op.f("uq_tracking_category_company_id_kind_qbo_id")
        ),
    )
    with op.batch_alter_table("tracking_category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_category_company_id"), ["company_id"], unique=False
        )
    for table, column in OVERRIDES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table, column in reversed(OVERRIDES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
    with op.batch_alter_table("tracking_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_category_company_id"))
    op.drop_table("tracking_category")
