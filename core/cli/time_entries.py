"""`costbridge time add|list`: hours worked, pushed as QuickBooks TimeActivity.

A time entry is recorded for QuickBooks only while the project's time tracking is on when it is
entered (never retroactively); the employee and cost code are found by name.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

import click

from core.cli.common import CLASS
from core.cli.common import DAY
from core.cli.common import JSON
from core.cli.common import LOCATION
from core.cli.common import PROJECT
from core.cli.common import code_text
from core.cli.common import fails_cleanly
from core.cli.common import find_cost_code
from core.cli.common import find_named
from core.cli.common import list_command
from core.cli.common import parse_decimal
from core.cli.common import project_records
from core.cli.common import recorded
from core.cli.common import runtime
from core.cli.common import status_text
from core.cli.common import sync_json
from core.cli.common import tag_id
from core.errors import CostbridgeError
from core.models import Employee
from core.models import TimeEntry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["time_entries", "time_json"]


def time_json(session: Session, entry: TimeEntry) -> dict[str, Any]:
    """A time entry with its employee, hours, code and sync status."""
    employee = session.get(Employee, entry.employee_id)
    return {
        "id": entry.id,
        "project_id": entry.project_id,
        "employee": employee.name if employee else None,
        "date": entry.work_date.isoformat(),
        "hours": str(entry.hours),
        "code": code_text(session, entry.cost_code_id),
        "billable": entry.billable,
        "class_id": entry.qbo_class_id,
        "location_id": entry.qbo_location_id,
        **sync_json(session, entry),
    }


# -- time ---------------------------------------------------------------------------------------


@click.group("time")
def time_entries() -> None:
    """Time entries of a project, pushed as QuickBooks TimeActivity while time tracking is on."""


@time_entries.command("add")
@PROJECT
@click.option("--employee", required=True, help="The employee's name (see `employees list`).")
@click.option("--date", "work_date", type=DAY, required=True, help="Day worked, YYYY-MM-DD.")
@click.option("--hours", required=True, help="Hours worked, such as 7.5.")
@click.option("--code", help="Cost code (code or name; default: the project's).")
@click.option("--billable/--not-billable", default=True, show_default=True)
@click.option("--description", help="What was done.")
@CLASS
@LOCATION
@JSON
@fails_cleanly
def time_add(
    project_id: int,
    employee: str,
    work_date: dt.datetime,
    hours: str,
    code: str | None,
    billable: bool,
    description: str | None,
    class_name: str | None,
    location_name: str | None,
    as_json: bool,
) -> None:
    """Record hours worked; pushed only if time tracking is on now (never retroactively)."""
    from core.projects import get_project
    from core.push.records import add_time_entry

    worked = parse_decimal(hours, "The hours", example="7.5")
    if not Decimal(0) < worked <= Decimal(24):
        raise CostbridgeError(f"{hours} hours is not a day's work.", fix="Give 0.01 to 24 hours.")
    with runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        person = find_named(session, Employee, "employee", project.company_id, employee)
        entry, entries = add_time_entry(
            session,
            rt.pm,
            project,
            employee=person,
            work_date=work_date.date(),
            hours=worked,
            cost_code_id=find_cost_code(session, project.company_id, code).id if code else None,
            billable=billable,
            description=description,
            qbo_class_id=tag_id(rt, session, project.company_id, "class", class_name),
            qbo_location_id=tag_id(rt, session, project.company_id, "location", location_name),
        )
        recorded(
            rt,
            session,
            entries,
            toggle="time tracking",
            as_json=as_json,
            record=entry,
            to_json=time_json,
            done="time entry {} added",
        )


def _time_line(r: dict[str, Any]) -> None:
    click.echo(
        f"{r['id']:>5}  {r['date']}  {(r['employee'] or '')[:28]:<28} {r['hours']:>7} h  "
        f"{status_text(r)}"
    )


list_command(
    time_entries,
    "The project's time entries: employee, hours, sync status, QuickBooks id.",
    per="project",
    rows=project_records(TimeEntry, time_json),
    echo=_time_line,
)
