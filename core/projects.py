"""Companies and projects: create, list, link to a QBO customer, change settings.

The CLI, the admin console and the jobs call these; none of them holds this logic itself. A
change that affects which lines count (a link, a setting, a plugin turned on or off) re-applies
the stored lines at once, without asking QBO again.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contracts import SettingProblem
from core.errors import CostbridgeError
from core.models import Company
from core.models import Project
from core.models import SyncRun
from core.plugins import PluginManager
from core.project_settings import save_settings
from core.qbo import queries
from core.sync.apply import Reapplied
from core.sync.apply import reapply_project


class NotFound(CostbridgeError):
    """A company, project or QBO customer that does not exist (or is ambiguous)."""


@dataclass(frozen=True)
class CustomerChoice:
    """A QBO customer, sub-customer (job) or Project a project can be linked to."""

    id: str
    full_name: str
    display_name: str
    is_project: bool
    parent_id: str | None

    def as_json(self) -> dict[str, Any]:
        """JSON-safe."""
        return {
            "id": self.id,
            "full_name": self.full_name,
            "display_name": self.display_name,
            "is_project": self.is_project,
            "parent_id": self.parent_id,
        }


def create_company(session: Session, name: str, *, home_currency: str = "USD") -> Company:
    """A new, unconnected company (connected on its page, `/qbo/company/<id>`)."""
    name = name.strip()
    if not name:
        raise CostbridgeError("A company needs a name.", fix="Give the company's name.")
    company = Company(name=name[:200], home_currency=home_currency.upper()[:3])
    session.add(company)
    session.flush()
    return company


def company_json(company: Company) -> dict[str, Any]:
    """What `companies list --json` shows of one company (never a token)."""
    return {
        "id": company.id,
        "name": company.name,
        "connection_status": company.connection_status.value,
        "realm_id": company.realm_id,
        "qbo_company_name": company.qbo_company_name,
    }


def get_company(session: Session, company_id: int) -> Company:
    """The company, or a clear error."""
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound(f"There is no company {company_id}.", fix="Run `costbridge companies list`.")
    return company


def get_project(session: Session, project_id: int) -> Project:
    """The project, or a clear error."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"There is no project {project_id}.", fix="Run `costbridge projects list`.")
    return project


def create_project(
    session: Session, pm: PluginManager, company: Company, name: str, *, number: str | None = None
) -> Project:
    """A new project of `company`, with every installed plugin enabled."""
    name = name.strip()
    if not name:
        raise CostbridgeError("A project needs a name.", fix="Give the project's name.")
    project = Project(company_id=company.id, name=name[:200], number=number)
    session.add(project)
    session.flush()
    return project


def project_json(session: Session, project: Project) -> dict[str, Any]:
    """What `projects list --json` shows of one project."""
    last = session.scalars(
        select(SyncRun)
        .where(SyncRun.company_id == project.company_id, SyncRun.kind == "pull")
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()
    return {
        "id": project.id,
        "company_id": project.company_id,
        "name": project.name,
        "qbo_customer_id": project.qbo_customer_id,
        "qbo_customer_name": project.qbo_customer_name,
        "settings": dict(project.settings or {}),
        "last_pull": None
        if last is None
        else {
            "run_id": last.id,
            "state": last.state.value,
            "finished_at": last.finished_at.isoformat() if last.finished_at else None,
            "message": last.message,
        },
    }


def customer_choices(client: Any) -> list[CustomerChoice]:
    """Every active QBO customer, sub-customer and Project, by full name (for drop-downs)."""
    choices = [
        CustomerChoice(
            id=str(row.get("Id")),
            full_name=str(row.get("FullyQualifiedName") or row.get("DisplayName") or ""),
            display_name=str(row.get("DisplayName") or ""),
            is_project=bool(row.get("IsProject")),
            parent_id=str((row.get("ParentRef") or {}).get("value") or "") or None,
        )
        for row in client.query_all("Customer", page_size=queries.MAX_RESULTS)
    ]
    return sorted(choices, key=lambda c: c.full_name.casefold())


def resolve_customer(choices: Sequence[CustomerChoice], ref: str) -> CustomerChoice:
    """The one customer `ref` names: its QBO id, its full name, or an unambiguous short name.

    Raises:
        NotFound: Nothing matches, or several do; the message lists the candidates.
    """
    wanted = ref.strip()
    folded = wanted.casefold()
    for exact in (
        [c for c in choices if c.id == wanted],
        [c for c in choices if c.full_name.casefold() == folded],
    ):
        if len(exact) == 1:
            return exact[0]
    short = [
        c
        for c in choices
        if c.display_name.casefold() == folded or c.full_name.casefold().endswith(":" + folded)
    ]
    if len(short) == 1:
        return short[0]
    if short:
        raise NotFound(
            f"“{wanted}” matches several QuickBooks customers: "
            + "; ".join(f"{c.full_name} (id {c.id})" for c in short),
            fix="Give the full name or the id of the one you mean.",
        )
    names = [c.full_name for c in choices]
    close = difflib.get_close_matches(wanted, names, n=5, cutoff=0.4)
    hint = ("Did you mean: " + "; ".join(close) + "?") if close else "Check the name in QuickBooks."
    raise NotFound(f"No QuickBooks customer is called “{wanted}”.", fix=hint)


def link_project(
    session: Session, pm: PluginManager, project: Project, choice: CustomerChoice
) -> Reapplied:
    """Link the project to a QBO customer; its stored lines fill the budget at once.

    Raises:
        CostbridgeError: Another project of the company is already linked to that customer.
    """
    other = session.scalars(
        select(Project).where(
            Project.company_id == project.company_id,
            Project.qbo_customer_id == choice.id,
            Project.id != project.id,
        )
    ).first()
    if other is not None:
        raise CostbridgeError(
            f"{choice.full_name} is already linked to the project “{other.name}” (id {other.id}).",
            fix="Unlink it there first, or choose another customer, sub-customer or Project.",
        )
    project.qbo_customer_id = choice.id
    project.qbo_customer_name = choice.full_name[:500]
    return reapply_project(session, pm, project)


def update_settings(
    session: Session,
    pm: PluginManager,
    project: Project,
    wanted: Mapping[str, Any],
    *,
    changed_by: str | None = None,
) -> list[SettingProblem]:
    """Check, store (with history) and apply new settings; nothing changes if any is refused."""
    problems = save_settings(pm, session, project, wanted, changed_by=changed_by)
    if not problems:
        reapply_project(session, pm, project)
    return problems
