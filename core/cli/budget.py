"""`costbridge budget`: the budget report, and budget lines set or imported from a terminal.

`costbridge budget --project ID [--format table|csv|json]` prints budgeted, actual and variance
per cost code as before; `budget set` and `budget import` write lines through
`core.budgets.apply_budget`, as the console does, each change kept in the project's history
(`budget history`). A CODE is the cost code's code or its name, as bills take it.
"""

from __future__ import annotations

import getpass
import sys
from csv import writer as csv_writer
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.cli.common import JSON
from core.cli.common import PROJECT
from core.cli.common import Refused
from core.cli.common import dump
from core.cli.common import fails_cleanly
from core.cli.common import runtime
from core.cli.common import say

if TYPE_CHECKING:
    from core.budgets import BudgetPlan

__all__ = ["budget"]


def _who() -> str:
    """Who changes the budget from this terminal, as the history names them."""
    try:
        return f"command line:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment
        return "command line"


@click.group(invoke_without_command=True)
@click.option("--project", "project_id", type=int, help="The project's id (for the report).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.pass_context
@fails_cleanly
def budget(ctx: click.Context, project_id: int | None, fmt: str) -> None:
    """Budgeted, actual and variance per cost code, with totals per actual type.

    With a command (set, import, history) the budget lines themselves.
    """
    if ctx.invoked_subcommand is not None:
        if project_id is not None:
            raise click.UsageError(
                f"Give --project after `budget {ctx.invoked_subcommand}`, not before it."
            )
        return
    if project_id is None:
        raise click.UsageError("Missing option '--project'.")
    from core.projects import get_project
    from core.sync import reports

    with runtime() as rt, rt.sessions() as session:
        report = reports.budget(session, get_project(session, project_id))
    if fmt == "json":
        dump(report.as_json())
        return
    if fmt == "csv":
        out = csv_writer(sys.stdout, lineterminator="\n")
        out.writerow(["code", "name", "budgeted", "actual", "variance"])
        for row in report.lines:
            out.writerow([row.code, row.name, row.budgeted, row.actual, row.variance])
        out.writerow(["TOTAL", "", report.total_budget, report.total_actual, report.total_variance])
        return
    click.echo(f"Budget of project {report.project_id} “{report.project_name}”")
    click.echo(f"{'code':<12} {'name':<36} {'budgeted':>14} {'actual':>14} {'variance':>14}")
    for row in report.lines:
        click.echo(
            f"{row.code[:12]:<12} {row.name[:36]:<36} {row.budgeted:>14} {row.actual:>14} "
            f"{row.variance:>14}"
        )
    click.echo(
        f"{'TOTAL':<12} {'':<36} {report.total_budget:>14} {report.total_actual:>14} "
        f"{report.total_variance:>14}"
    )
    for kind, amount in sorted(report.totals_by_type.items()):
        click.echo(f"  {kind.replace('_', ' '):<24} {amount:>14}")


def _report(plan: BudgetPlan, as_json: bool, *, saved: bool) -> None:
    """The plan's changes, one line each, then what it did (or would do)."""
    if as_json:
        dump({**plan.as_json(), "saved": saved})
        return
    for problem in plan.problems:
        say(f"{problem.message} {problem.fix}")
    for note in plan.skipped:
        click.echo(note)
    for change in plan.changes:
        if change.action == "add":
            click.echo(f"add        {change.label}: {change.new_amount:,.2f}")
        elif change.action == "change":
            old = f"{change.old_amount:,.2f}" if change.old_amount is not None else "—"
            described = (
                f" (description: {change.new_description})"
                if change.new_description != change.old_description
                else ""
            )
            click.echo(f"change     {change.label}: {old} -> {change.new_amount:,.2f}{described}")
        else:
            click.echo(f"unchanged  {change.label}: {change.new_amount:,.2f}")
    counts = plan.counts
    kept = f"; {counts.get('kept', 0)} line(s) not in the list kept as they are"
    done = "saved" if saved else "nothing saved"
    click.echo(
        f"{counts.get('add', 0)} added, {counts.get('change', 0)} changed, "
        f"{counts.get('unchanged', 0)} unchanged{kept} ({done})."
    )


@budget.command("set")
@PROJECT
@click.argument("assignments", nargs=-1, metavar="CODE=AMOUNT...")
@JSON
@fails_cleanly
def set_lines(project_id: int, assignments: tuple[str, ...], as_json: bool) -> None:
    """Set budget lines: CODE=AMOUNT, where CODE is the cost code's code or name (UNCODED for
    the Uncoded row) and AMOUNT may have separators, $ and a minus or parentheses.
    """
    from core.budgets import apply_budget
    from core.budgets import parse_assignments
    from core.projects import get_project

    with runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        entries = parse_assignments(session, project, assignments)
        plan = apply_budget(session, project, entries, source="cli", changed_by=_who())
        session.commit()
    _report(plan, as_json, saved=True)


@budget.command("import")
@PROJECT
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; save nothing.")
@JSON
@fails_cleanly
def import_lines(project_id: int, file: Path, dry_run: bool, as_json: bool) -> None:
    """Import budget lines from a CSV file: code (or name), amount, optional description.

    A header row is recognised by its names (Cost Code, Amount, Budget, Total, Description…);
    lines the file does not mention are kept. Any wrong row stops the import: every one is
    listed with its row number and the fix, and nothing is saved.
    """
    from core.budget_import import MAX_IMPORT_BYTES
    from core.budget_import import read_csv
    from core.budgets import apply_confirmed
    from core.projects import get_project

    with file.open("rb") as handle:
        data = handle.read(MAX_IMPORT_BYTES + 1)
    with runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        plan = read_csv(session, project, data)
        if not plan.ok:
            _report(plan, as_json, saved=False)
            raise Refused
        if not dry_run:
            apply_confirmed(
                session,
                project,
                plan.entries,
                plan.fingerprint,
                source="import",
                changed_by=_who(),
            )
            session.commit()
    _report(plan, as_json, saved=not dry_run)


@budget.command("history")
@PROJECT
@JSON
@fails_cleanly
def history(project_id: int, as_json: bool) -> None:
    """Every change of the project's budget lines and settings: when, who, old and new."""
    from core.history import project_history
    from core.projects import get_project

    with runtime() as rt, rt.sessions() as session:
        items = project_history(session, get_project(session, project_id))
    if as_json:
        dump([item.as_json() for item in items])
        return
    for item in items:
        who = item.changed_by or "?"
        via = f" via {item.source}" if item.source else ""
        click.echo(
            f"{item.changed_at:%Y-%m-%d %H:%M} {who}{via}: {item.what}: {item.old} -> {item.new}"
        )
