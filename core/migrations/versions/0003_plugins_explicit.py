"""plugins explicit per project: a project lists the plugins it uses

Revision ID: 0003_plugins_explicit
Revises: 0002_pull_ledger
Create Date: 2026-11-29 17:30:00

Data only. `project.enabled_plugins` NULL used to mean "every installed plugin", so a plugin
installed later switched itself on for every project. Existing projects keep exactly what they
use today: the plugins installed when this migration runs. New projects get the plugins
installed when they are created (the model's default).
"""

from __future__ import annotations

import importlib.metadata

import sqlalchemy as sa
from alembic import op

revision = '0003_plugins_explicit'
down_revision = '0002_pull_ledger'
branch_labels = None
depends_on = None

project = sa.table('project', sa.column('enabled_plugins', sa.JSON()))


def upgrade() -> None:
    installed = sorted(
        {ep.name for ep in importlib.metadata.entry_points(group='costbridge.plugins')}
    )
    op.execute(
        project.update().where(project.c.enabled_plugins.is_(None)).values(enabled_plugins=installed)
    )


def downgrade() -> None:
    # The lists stay: under the old meaning they still name the plugins each project uses.
    pass
