"""`costbridge sync pull|doctor|reconcile`: the pull and its reports, from a terminal.

Each command calls the same functions as the admin console (the sync engine,
`core.sync.reports`, `core.sync.doctor`). JSON output writes money as decimal strings. A problem
an admin can fix is one line, `costbridge: <message> <fix>`, and exit code 1; never a traceback.
A pull that could not bring some records in names them and exits with `PARTIAL_EXIT` (3).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from core.cli.common import JSON
from core.cli.common import connected_client
from core.cli.common import dump
from core.cli.common import fails_cleanly
from core.cli.common import runtime
from core.errors import CostbridgeError

if TYPE_CHECKING:
    from core.contracts import RecordProblem

__all__ = ["DRIFT_EXIT", "PARTIAL_EXIT", "doctor", "reconcile", "sync"]

#: `sync pull`'s exit code when the pull applied some records and could not map others
#: (1 is a pull that failed or applied nothing; 2 is a usage or configuration error).
PARTIAL_EXIT = 3
#: `reconcile`'s exit code when stored actuals drift from QuickBooks (like a partial pull:
#: the command ran, and something needs a pull).
DRIFT_EXIT = 3


# -- sync ---------------------------------------------------------------------------------------


@click.group()
def sync() -> None:
    """Pull costs from QuickBooks."""


def _progress() -> Callable[[int], None] | None:
    """A records-read counter on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(records: int) -> None:
        click.echo(f"\rcostbridge: {records} record(s) read…", err=True, nl=False)

    return show


@sync.command("pull")
@click.option("--project", "project_id", type=int, help="Pull for this project (its company).")
@click.option("--company", "company_id", type=int, help="Pull every project of this company.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Re-read every record dated on or after this day (YYYY-MM-DD).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@JSON
@fails_cleanly
def sync_pull(
    project_id: int | None,
    company_id: int | None,
    since: dt.datetime | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Pull a company's QuickBooks costs into actuals (one pull serves all its projects)."""
    from core.models import RunState
    from core.projects import get_project
    from core.sync.attachments import pull_bill_attachments
    from core.sync.engine import pull_company

    if (project_id is None) == (company_id is None):
        raise CostbridgeError(
            "Say what to pull.", fix="Give exactly one of --project ID or --company ID."
        )
    with runtime() as rt:
        if project_id is not None:
            with rt.sessions() as session:
                company_id = get_project(session, project_id).company_id
        assert company_id is not None
        progress = _progress()
        report = pull_company(
            rt,
            company_id,
            since=since.date() if since else None,
            dry_run=dry_run,
            project_id=project_id,
            progress=progress,
        )
        if progress is not None:
            click.echo("", err=True)
        files = None
        if report.state in (RunState.SUCCEEDED, RunState.PARTIAL) and not dry_run:
            # The files of the bills that did come in (a record that failed has no new lines).
            files = pull_bill_attachments(rt, company_id, run_id=report.run_id)
    partial = report.state == RunState.PARTIAL
    failed = report.state not in (RunState.SUCCEEDED, RunState.PARTIAL, RunState.RUNNING)
    if as_json:
        body = report.as_json(project_id)
        if files is not None:
            body["attachments"] = files.as_json()
        dump(body)
        if failed or partial:
            sys.exit(PARTIAL_EXIT if partial else 1)
        return
    if failed:
        _echo_failed_records(report.problems)
        raise CostbridgeError(report.message, fix=report.fix)
    click.echo(f"costbridge: {'dry run: ' if dry_run else ''}{report.message}")
    if files is not None and (files.added or files.removed or files.problems):
        click.echo(
            f"costbridge: bill attachments from QuickBooks: {files.added} added, "
            f"{files.removed} removed."
        )
        for trouble in files.problems[:20]:
            click.echo(f"!! attachment: {trouble}", err=True)
    changes = [c for c in report.tally.changes if project_id is None or c.project_id == project_id]
    if dry_run or project_id is not None:
        scope = f"project {project_id}" if project_id is not None else "the company"
        click.echo(f"{len(changes)} line change(s) for {scope}:")
        for change in changes[:200]:
            old = "" if change.old_amount is None else f" (was {change.old_amount})"
            counts = "" if change.counts else "  [does not count]"
            click.echo(
                f"  {change.action:<6} {change.entity} {change.qbo_id} line {change.line_id}: "
                f"{change.actual_type} {change.amount}{old}{counts}"
            )
        if len(changes) > 200:
            click.echo(f"  … and {len(changes) - 200} more (use --json for all).")
    if partial:
        click.echo(f"costbridge: {report.fix}", err=True)
        _echo_failed_records(report.problems)
        sys.exit(PARTIAL_EXIT)


def _echo_failed_records(problems: Sequence[RecordProblem], limit: int = 20) -> None:
    """Each record a pull could not bring in, one line on stderr (the first `limit`)."""
    for problem in problems[:limit]:
        click.echo(f"!! {problem.message}", err=True)
    if len(problems) > limit:
        click.echo(f"!! … and {len(problems) - limit} more (use --json for all).", err=True)


# -- reports ------------------------------------------------------------------------------------


@click.command()
@click.option("--project", "project_id", type=int, required=True, help="The project's id.")
@JSON
@fails_cleanly
def doctor(project_id: int, as_json: bool) -> None:
    """Why a project's costs did not arrive: each reason with counts, examples and a fix."""
    from core.projects import get_company
    from core.projects import get_project
    from core.sync import doctor

    with runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        company = get_company(session, project.company_id)
        findings = doctor.doctor(session, rt.pm, project, company)
    if as_json:
        dump({"project_id": project_id, "findings": [f.as_json() for f in findings]})
        return
    if not findings:
        click.echo("costbridge: nothing found that keeps this project's costs from arriving.")
        return
    for finding in findings:
        click.echo(f"* {finding.message}")
        click.echo(f"  Fix: {finding.fix}")
        if finding.examples:
            click.echo(f"  For example: {', '.join(finding.examples)}")


@click.command()
@click.option("--project", "project_id", type=int, required=True, help="The project's id.")
@JSON
@fails_cleanly
def reconcile(project_id: int, as_json: bool) -> None:
    """Compare the project's actuals with fresh QuickBooks queries (reads only).

    Exit 0 when in step; 3 (DRIFT_EXIT) when records differ, after listing them (with --json
    too), so a scheduled check can alert; 1 when the comparison could not run.
    """
    from core.projects import get_company
    from core.projects import get_project
    from core.sync import reports

    with runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        company = get_company(session, project.company_id)
        result = reports.reconcile(session, rt.pm, project, company, connected_client(rt, company))
        session.rollback()
    if as_json:
        dump(result.as_json())
        if not result.in_step:
            raise SystemExit(DRIFT_EXIT)
        return
    click.echo(f"{'actual type':<24} {'costbridge':>14} {'QuickBooks':>14} {'difference':>14}")
    for total in result.by_type:
        click.echo(
            f"{total.actual_type.replace('_', ' '):<24} {total.stored:>14} {total.fresh:>14} "
            f"{total.difference:>14}"
        )
    if result.in_step:
        click.echo(f"costbridge: in step with QuickBooks ({result.records_read} records read).")
        return
    click.echo(f"costbridge: {len(result.drift)} record(s) differ from QuickBooks:")
    words = {
        "missing_here": "in QuickBooks, not here",
        "missing_in_qbo": "here, not in QuickBooks",
        "amount_differs": "amounts differ",
    }
    for d in result.drift[:200]:
        click.echo(
            f"  {d.entity} {d.qbo_id}: {words[d.kind]} "
            f"(here {d.stored or '-'}, QuickBooks {d.fresh or '-'})"
        )
    click.echo("Run `costbridge sync pull` for this project to bring it in step.")
    raise SystemExit(DRIFT_EXIT)
