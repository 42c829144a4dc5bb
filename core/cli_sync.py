"""`costbridge companies|projects|sync|budget|doctor|reconcile`: the pull, from a terminal.

Each command calls the same functions as the admin console (`core.projects`, the sync engine,
`core.sync.reports`). JSON output writes money as decimal strings. A problem an admin can fix is
one line, `costbridge: <message> <fix>`, and exit code 1; never a traceback. A pull that could
not bring some records in names them and exits with `PARTIAL_EXIT` (3).

Tests (and embedding code) may pass a ready `Runtime` as click's `obj`; otherwise one is built
from the environment and closed afterwards.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from csv import writer as csv_writer
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar
from typing import cast

import click

from core.errors import CostbridgeError

if TYPE_CHECKING:
    from core.contracts import RecordProblem
    from core.contracts import SettingSpec
    from core.runtime import Runtime

__all__ = ["budget", "companies", "doctor", "projects", "reconcile", "sync"]

F = TypeVar("F", bound=Callable[..., Any])
#: `sync pull`'s exit code when the pull applied some records and could not map others
#: (1 is a pull that failed or applied nothing; 2 is a usage or configuration error).
PARTIAL_EXIT = 3
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


class _Refused(Exception):
    """Several problems already printed; exit 1."""


def _fails_cleanly(func: F) -> F:
    """Turn a `CostbridgeError` into one line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CostbridgeError as exc:
            click.echo(f"costbridge: {exc.message} {exc.fix}".rstrip(), err=True)
            sys.exit(1)
        except _Refused:
            sys.exit(1)

    return cast("F", wrapper)


@contextmanager
def _runtime() -> Iterator[Runtime]:
    """The runtime passed as click's `obj`, or one built from the environment (then closed)."""
    from core.runtime import Runtime

    given = click.get_current_context().obj
    if isinstance(given, Runtime):
        yield given
        return
    from core.cli import _settings

    rt = Runtime.build(_settings())
    try:
        yield rt
    finally:
        rt.close()


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _client(rt: Runtime, company: Any) -> Any:
    from core.models import ConnectionStatus
    from core.qbo import client_for

    if company.connection_status != ConnectionStatus.CONNECTED or not company.realm_id:
        raise CostbridgeError(
            f"{company.name} is not connected to QuickBooks.",
            fix=f"Connect it in the web app (/qbo/connect/{company.id}), then try again.",
        )
    return client_for(rt, company.realm_id)


# -- companies ----------------------------------------------------------------------------------


@click.group()
def companies() -> None:
    """Construction companies and their QuickBooks connection."""


@companies.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_fails_cleanly
def companies_create(name: str, as_json: bool) -> None:
    """Add a company (connect it to QuickBooks in the web app: /qbo/connect/<id>)."""
    from core.projects import company_json
    from core.projects import create_company

    with _runtime() as rt, rt.sessions() as session:
        company = create_company(session, name)
        session.commit()
        if as_json:
            _dump(company_json(company))
            return
        click.echo(
            f"costbridge: company {company.id} “{company.name}” created; connect it to "
            f"QuickBooks at /qbo/connect/{company.id}."
        )


@companies.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_fails_cleanly
def companies_list(as_json: bool) -> None:
    """Every company: id, name, connection, realm and QuickBooks company name."""
    from sqlalchemy import select

    from core.models import Company
    from core.projects import company_json

    with _runtime() as rt, rt.sessions() as session:
        rows = [company_json(c) for c in session.scalars(select(Company).order_by(Company.id))]
    if as_json:
        _dump(rows)
        return
    for row in rows:
        status = row["connection_status"].replace("_", " ")
        realm = f"realm {row['realm_id']} ({row['qbo_company_name'] or '?'})"
        click.echo(f"{row['id']:>5}  {row['name']:<32} {status:<17} {realm}")


# -- projects -----------------------------------------------------------------------------------


@click.group()
def projects() -> None:
    """Projects, their QuickBooks customer and their settings."""


def _link(rt: Runtime, session: Any, project: Any, ref: str) -> str:
    from core.projects import customer_choices
    from core.projects import get_company
    from core.projects import link_project
    from core.projects import resolve_customer

    client = _client(rt, get_company(session, project.company_id))
    choice = resolve_customer(customer_choices(client), ref)
    link_project(session, rt.pm, project, choice)
    return choice.full_name


@projects.command("create")
@click.option("--company", "company_id", type=int, required=True, help="The company's id.")
@click.option("--name", required=True, help="The project's name.")
@click.option("--customer", help="QBO customer id or full name (Customer:Job) to link it to.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_fails_cleanly
def projects_create(company_id: int, name: str, customer: str | None, as_json: bool) -> None:
    """Add a project, and link it to a QuickBooks customer when --customer is given."""
    from core.projects import create_project
    from core.projects import get_company
    from core.projects import project_json

    with _runtime() as rt, rt.sessions() as session:
        company = get_company(session, company_id)
        project = create_project(session, rt.pm, company, name)
        linked = _link(rt, session, project, customer) if customer else None
        session.commit()
        if as_json:
            _dump(project_json(session, project))
            return
        click.echo(
            f"costbridge: project {project.id} “{project.name}” created"
            + (f", linked to {linked}." if linked else "; link it with `projects link`.")
        )


@projects.command("link")
@click.argument("project_id", type=int)
@click.option("--customer", required=True, help="QBO customer id or full name (Customer:Job).")
@_fails_cleanly
def projects_link(project_id: int, customer: str) -> None:
    """Link a project to a QuickBooks customer, sub-customer (job) or Project."""
    from core.projects import get_project

    with _runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        linked = _link(rt, session, project, customer)
        session.commit()
        click.echo(f"costbridge: project {project.id} “{project.name}” is linked to {linked}.")


def parse_setting(spec: SettingSpec, raw: str) -> object:
    """The value of `raw` (command-line text) for a setting of `spec`'s type.

    Raises:
        ValueError: `raw` is not a value of that type; the message says what is expected.
    """
    text = raw.strip()
    if spec.type == "text":
        return raw if raw != "" else None
    if text == "" or text.casefold() == "none":
        return None
    if spec.type == "bool":
        if text.casefold() in _TRUE:
            return True
        if text.casefold() in _FALSE:
            return False
        raise ValueError("use on or off (true/false, yes/no)")
    if spec.type in ("int", "cost_code"):
        try:
            return int(text)
        except ValueError:
            what = "a cost code id" if spec.type == "cost_code" else "a whole number"
            raise ValueError(f"use {what}") from None
    if spec.type == "decimal":
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError("use a number such as 12.50") from None
        if not value.is_finite():
            raise ValueError("use a number such as 12.50")
        return value
    return raw


@projects.command("set")
@click.argument("project_id", type=int)
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@_fails_cleanly
def projects_set(project_id: int, assignments: tuple[str, ...]) -> None:
    """Change project settings (see `costbridge plugins`); the lines count anew at once."""
    from core.projects import get_project
    from core.projects import update_settings

    with _runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        specs = rt.pm.setting_specs()
        wanted: dict[str, object] = {}
        refused: list[str] = []
        for item in assignments:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or not key:
                refused.append(f"“{item}” is not KEY=VALUE. Write it like vendor_credits=on.")
                continue
            if key not in specs:
                wanted[key] = raw  # check_settings names the unknown key and its fix
                continue
            spec = specs[key][1]
            try:
                wanted[key] = parse_setting(spec, raw)
            except ValueError as exc:
                refused.append(f"{spec.label} ({key}) cannot be “{raw}”. {str(exc).capitalize()}.")
        if not refused:
            problems = update_settings(session, rt.pm, project, wanted, changed_by="command line")
            refused = [f"{p.message} {p.fix}".strip() for p in problems]
        if refused:
            session.rollback()
            for line in refused:
                click.echo(f"costbridge: {line}", err=True)
            raise _Refused
        session.commit()
        shown = ", ".join(f"{k}={_word(v)}" for k, v in wanted.items())
        click.echo(f"costbridge: project {project.id} settings saved: {shown}.")


def _word(value: object) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    return "none" if value is None else str(value)


@projects.command("list")
@click.option("--company", "company_id", type=int, help="Only this company's projects.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_fails_cleanly
def projects_list(company_id: int | None, as_json: bool) -> None:
    """Every project: its company, its QuickBooks customer and its last pull."""
    from sqlalchemy import select

    from core.models import Project
    from core.projects import project_json

    with _runtime() as rt, rt.sessions() as session:
        query = select(Project).order_by(Project.id)
        if company_id is not None:
            query = query.where(Project.company_id == company_id)
        rows = [project_json(session, p) for p in session.scalars(query)]
    if as_json:
        _dump(rows)
        return
    for row in rows:
        customer = row["qbo_customer_name"] or "(not linked)"
        last = row["last_pull"]
        pulled = f"last pull {last['state']}" if last else "never pulled"
        click.echo(
            f"{row['id']:>5}  {row['name']:<32} company {row['company_id']:<4} "
            f"{customer:<40} {pulled}"
        )


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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_fails_cleanly
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
    with _runtime() as rt:
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
        _dump(body)
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@_fails_cleanly
def budget(project_id: int, fmt: str) -> None:
    """Budgeted, actual and variance per cost code, with totals per actual type."""
    from core.projects import get_project
    from core.sync import reports

    with _runtime() as rt, rt.sessions() as session:
        report = reports.budget(session, get_project(session, project_id))
    if fmt == "json":
        _dump(report.as_json())
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


@click.command()
@click.option("--project", "project_id", type=int, required=True, help="The project's id.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_fails_cleanly
def doctor(project_id: int, as_json: bool) -> None:
    """Why a project's costs did not arrive: each reason with counts, examples and a fix."""
    from core.projects import get_company
    from core.projects import get_project
    from core.sync import doctor

    with _runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        company = get_company(session, project.company_id)
        findings = doctor.doctor(session, rt.pm, project, company)
    if as_json:
        _dump({"project_id": project_id, "findings": [f.as_json() for f in findings]})
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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_fails_cleanly
def reconcile(project_id: int, as_json: bool) -> None:
    """Compare the project's actuals with fresh QuickBooks queries (reads only)."""
    from core.projects import get_company
    from core.projects import get_project
    from core.sync import reports

    with _runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        company = get_company(session, project.company_id)
        result = reports.reconcile(session, rt.pm, project, company, _client(rt, company))
        session.rollback()
    if as_json:
        _dump(result.as_json())
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
