"""`costbridge companies|projects`: companies, their projects and the projects' settings.

Each command calls what the admin console calls (`core.projects`). A setting typed on the
command line is read by its type (`parse_setting`), then checked by the plugins that declare it.
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any

import click

from core.cli.common import JSON
from core.cli.common import Refused
from core.cli.common import connected_client
from core.cli.common import dump
from core.cli.common import fails_cleanly
from core.cli.common import runtime
from core.errors import CostbridgeError

if TYPE_CHECKING:
    from core.contracts import SettingSpec
    from core.runtime import Runtime

__all__ = ["companies", "parse_setting", "projects"]

_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


# -- companies ----------------------------------------------------------------------------------


@click.group()
def companies() -> None:
    """Construction companies and their QuickBooks connection."""


@companies.command("create")
@click.argument("name")
@JSON
@fails_cleanly
def companies_create(name: str, as_json: bool) -> None:
    """Add a company (connect it to QuickBooks on its page in the web app: /qbo/company/<id>)."""
    from core.projects import company_json
    from core.projects import create_company

    with runtime() as rt, rt.sessions() as session:
        company = create_company(session, name)
        session.commit()
        if as_json:
            dump(company_json(company))
            return
        click.echo(
            f"costbridge: company {company.id} “{company.name}” created; connect it to "
            f"QuickBooks with the button on its page, /qbo/company/{company.id}."
        )


@companies.command("list")
@JSON
@fails_cleanly
def companies_list(as_json: bool) -> None:
    """Every company: id, name, connection, realm and QuickBooks company name."""
    from sqlalchemy import select

    from core.models import Company
    from core.projects import company_json

    with runtime() as rt, rt.sessions() as session:
        rows = [company_json(c) for c in session.scalars(select(Company).order_by(Company.id))]
    if as_json:
        dump(rows)
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

    client = connected_client(rt, get_company(session, project.company_id))
    choice = resolve_customer(customer_choices(client), ref)
    link_project(session, rt.pm, project, choice)
    return choice.full_name


@projects.command("create")
@click.option("--company", "company_id", type=int, required=True, help="The company's id.")
@click.option("--name", required=True, help="The project's name.")
@click.option("--customer", help="QBO customer id or full name (Customer:Job) to link it to.")
@JSON
@fails_cleanly
def projects_create(company_id: int, name: str, customer: str | None, as_json: bool) -> None:
    """Add a project, and link it to a QuickBooks customer when --customer is given."""
    from core.projects import create_project
    from core.projects import get_company
    from core.projects import project_json

    with runtime() as rt, rt.sessions() as session:
        company = get_company(session, company_id)
        project = create_project(session, rt.pm, company, name)
        linked = _link(rt, session, project, customer) if customer else None
        session.commit()
        if as_json:
            dump(project_json(session, project))
            return
        click.echo(
            f"costbridge: project {project.id} “{project.name}” created"
            + (f", linked to {linked}." if linked else "; link it with `projects link`.")
        )


@projects.command("link")
@click.argument("project_id", type=int)
@click.option("--customer", required=True, help="QBO customer id or full name (Customer:Job).")
@fails_cleanly
def projects_link(project_id: int, customer: str) -> None:
    """Link a project to a QuickBooks customer, sub-customer (job) or Project."""
    from core.projects import get_project

    with runtime() as rt, rt.sessions() as session:
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
    if spec.type == "cost_code":
        return text  # the code or the name, as bills take it (core.project_settings)
    if spec.type == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError("use a whole number") from None
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
@fails_cleanly
def projects_set(project_id: int, assignments: tuple[str, ...]) -> None:
    """Change project settings (see `costbridge plugins`); the lines count anew at once.

    `class=NAME` and `location=NAME` choose the project's default QuickBooks class and location
    (by full name, Parent:Child, or own name; empty clears). A cost-code setting takes the
    code or the name, as bills do.
    """
    from core import tracking
    from core.projects import get_company
    from core.projects import get_project
    from core.projects import update_settings

    with runtime() as rt, rt.sessions() as session:
        project = get_project(session, project_id)
        specs = rt.pm.setting_specs()
        wanted: dict[str, object] = {}
        tags: dict[str, str | None] = {}
        shown_tags: dict[str, str] = {}
        refused: list[str] = []
        for item in assignments:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or not key:
                refused.append(
                    f"“{item}” is not KEY=VALUE. Write it like key=on "
                    "(`costbridge plugins` lists the keys)."
                )
                continue
            if key in tracking.ENTITIES:
                try:
                    tags[key] = tracking.resolve(
                        session,
                        project.company_id,
                        key,
                        raw,
                        client=lambda: connected_client(
                            rt, get_company(session, project.company_id)
                        ),
                    )
                except CostbridgeError as exc:
                    refused.append(f"{exc.message} {exc.fix}".strip())
                    continue
                shown_tags[key] = raw.strip() or "none"
                continue
            if key not in specs:
                wanted[key] = raw  # check_settings names the unknown key and its fix
                continue
            spec = specs[key][1]
            try:
                wanted[key] = parse_setting(spec, raw)
            except ValueError as exc:
                refused.append(f"{spec.label} ({key}) cannot be “{raw}”. {str(exc).capitalize()}.")
        if not refused and tags:
            tracking.set_project_defaults(session, project, tags, changed_by="command line")
        if not refused and wanted:
            problems = update_settings(session, rt.pm, project, wanted, changed_by="command line")
            refused = [f"{p.message} {p.fix}".strip() for p in problems]
        if refused:
            session.rollback()
            for line in refused:
                click.echo(f"costbridge: {line}", err=True)
            raise Refused
        session.commit()
        shown = ", ".join(
            [f"{k}={v}" for k, v in shown_tags.items()]
            + [f"{k}={_word(v)}" for k, v in wanted.items()]
        )
        click.echo(f"costbridge: project {project.id} settings saved: {shown}.")


def _word(value: object) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    return "none" if value is None else str(value)


@projects.command("list")
@click.option("--company", "company_id", type=int, help="Only this company's projects.")
@JSON
@fails_cleanly
def projects_list(company_id: int | None, as_json: bool) -> None:
    """Every project: its company, its QuickBooks customer and its last pull."""
    from sqlalchemy import select

    from core.models import Project
    from core.projects import project_json

    with runtime() as rt, rt.sessions() as session:
        query = select(Project).order_by(Project.id)
        if company_id is not None:
            query = query.where(Project.company_id == company_id)
        rows = [project_json(session, p) for p in session.scalars(query)]
    if as_json:
        dump(rows)
        return
    for row in rows:
        customer = row["qbo_customer_name"] or "(not linked)"
        last = row["last_pull"]
        pulled = f"last pull {last['state']}" if last else "never pulled"
        click.echo(
            f"{row['id']:>5}  {row['name']:<32} company {row['company_id']:<4} "
            f"{customer:<40} {pulled}"
        )
