"""push ledger: RemoteMapping is the one home of QBO ids; outbox leases, errors and cancel

Revision ID: 0005_push_ledger
Revises: 0003_plugins_explicit
Create Date: 2026-12-01 10:00:00

Drops the duplicate `qbo_id` columns of bill, invoice, time_entry and outbox and attachment's
`qbo_attachable_id` (their values move into `remote_mapping` where the company is connected);
adds the outbox's lease holder, run, QBO error code and fix; class/location defaults on
projects; and the `cancelled` outbox state and `skipped` run state.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_push_ledger'
down_revision = '0003_plugins_explicit'
branch_labels = None
depends_on = None

OUTBOX_OLD = ('pending', 'in_flight', 'done', 'unknown', 'failed', 'needs_admin', 'blocked')
OUTBOX_NEW = (*OUTBOX_OLD, 'cancelled')
RUN_OLD = ('queued', 'running', 'succeeded', 'failed', 'needs_admin')
RUN_NEW = (*RUN_OLD, 'skipped')
#: (table, local kind, entity, column) of the ids that move to remote_mapping.
MOVED = (
    ('bill', 'bill', 'Bill', 'qbo_id'),
    ('invoice', 'invoice', 'Invoice', 'qbo_id'),
    ('time_entry', 'time_entry', 'TimeActivity', 'qbo_id'),
)


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def _states(table: str, column: str, name: str, old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Swap the CHECK constraint of a VARCHAR enum column for one with the new values."""
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table(table, recreate='always') as batch_op:
            batch_op.alter_column(column, existing_type=_enum(old, name), type_=_enum(new, name), existing_nullable=False)
        return
    op.drop_constraint(op.f(f'ck_{table}_{name}'), table, type_='check')
    listed = ', '.join(f"'{v}'" for v in new)
    op.create_check_constraint(op.f(f'ck_{table}_{name}'), table, f'{column} IN ({listed})')


def _move_ids() -> None:
    for table, kind, entity, column in MOVED:
        op.execute(
            f"""
            INSERT INTO remote_mapping (realm_id, entity, qbo_id, sync_token, local_kind, local_id, created_at, updated_at)
            SELECT c.realm_id, '{entity}', t.{column}, NULL, '{kind}', t.id, t.created_at, t.updated_at
            FROM {table} t JOIN project p ON p.id = t.project_id JOIN company c ON c.id = p.company_id
            WHERE t.{column} IS NOT NULL AND c.realm_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM remote_mapping m WHERE m.realm_id = c.realm_id AND m.local_kind = '{kind}' AND m.local_id = t.id)
            """
        )
    op.execute(
        """
        INSERT INTO remote_mapping (realm_id, entity, qbo_id, sync_token, local_kind, local_id, created_at, updated_at)
        SELECT c.realm_id, 'Attachable', a.qbo_attachable_id, NULL, 'attachment', a.id, a.created_at, a.updated_at
        FROM attachment a JOIN project p ON p.id = a.project_id JOIN company c ON c.id = p.company_id
        WHERE a.qbo_attachable_id IS NOT NULL AND c.realm_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM remote_mapping m WHERE m.realm_id = c.realm_id AND m.local_kind = 'attachment' AND m.local_id = a.id)
        """
    )


def upgrade() -> None:
    _move_ids()
    for table, _kind, _entity, column in MOVED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('qbo_attachable_id')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('qbo_id')
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('error_code', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('fix', sa.Text(), nullable=True))
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qbo_class_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('qbo_location_id', sa.String(length=32), nullable=True))
    _states('outbox', 'state', 'outboxstate', OUTBOX_OLD, OUTBOX_NEW)
    _states('sync_run', 'state', 'runstate', RUN_OLD, RUN_NEW)


def downgrade() -> None:
    op.execute("UPDATE outbox SET state = 'failed' WHERE state = 'cancelled'")
    op.execute("UPDATE sync_run SET state = 'succeeded' WHERE state = 'skipped'")
    _states('sync_run', 'state', 'runstate', RUN_NEW, RUN_OLD)
    _states('outbox', 'state', 'outboxstate', OUTBOX_NEW, OUTBOX_OLD)
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('qbo_location_id')
        batch_op.drop_column('qbo_class_id')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('fix')
        batch_op.drop_column('error_code')
        batch_op.drop_column('run_id')
        batch_op.drop_column('claimed_by')
        batch_op.add_column(sa.Column('qbo_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qbo_attachable_id', sa.String(length=32), nullable=True))
    for table, _kind, _entity, column in MOVED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(length=32), nullable=True))
