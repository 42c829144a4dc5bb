"""The `costbridge` command: one module per command group, sharing only `core.cli.common`.

`main` is the console script (`[project.scripts]` in pyproject.toml) and `python -m core.cli`.
"""

from __future__ import annotations

import click

from core.cli.api_tokens import api_tokens
from core.cli.bills import bills
from core.cli.budget import budget
from core.cli.catalog import cost_codes
from core.cli.catalog import employees
from core.cli.catalog import vendors
from core.cli.common import OneLineGroup
from core.cli.db import db
from core.cli.invoices import invoices
from core.cli.keys import keys
from core.cli.outbox import outbox
from core.cli.plugins import plugins
from core.cli.projects import companies
from core.cli.projects import projects
from core.cli.sandbox import sandbox
from core.cli.status import status
from core.cli.sync import doctor
from core.cli.sync import reconcile
from core.cli.sync import sync
from core.cli.time_entries import time_entries
from core.cli.users import users
from core.cli.web import web
from core.cli.worker import queue
from core.cli.worker import sweep
from core.cli.worker import worker

__all__ = ["main"]


@click.group(cls=OneLineGroup)
def main() -> None:
    """Keep construction project budgets and QuickBooks Online in step."""
    from core.crypto import install_log_scrubber

    install_log_scrubber()


COMMANDS = (
    db,
    worker,
    sweep,
    web,
    plugins,
    sandbox,
    keys,
    status,
    queue,
    companies,
    projects,
    sync,
    budget,
    doctor,
    reconcile,
    users,
    api_tokens,
    cost_codes,
    vendors,
    employees,
    bills,
    invoices,
    time_entries,
    outbox,
)
for _command in COMMANDS:
    main.add_command(_command)
