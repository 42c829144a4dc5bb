"""Re-applying stored lines to a project without asking QBO: toggles, links, plugins.

Every cost line of the realm is kept (core.sync.store), so when an admin flips a toggle, links a
project to a customer or turns a plugin on or off, the project's actuals are recomputed here from
what is stored, with zero QBO requests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from typing import cast

from sqlalchemy import CursorResult
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.contracts import Exclusion
from core.models import Actual
from core.models import Company
from core.models import Project
from core.plugins import PluginManager
from core.sync.store import Router


@dataclass(frozen=True)
class Reapplied:
    """How many stored lines changed project or status."""

    lines: int
    changed: int
    released: int


def reapply_project(session: Session, pm: PluginManager, project: Project) -> Reapplied:
    """Route and judge again every stored line of the project's customer (and release others).

    Lines the project held but whose customer is no longer its link are released (they count
    nowhere until some project links their customer). Runs in the caller's transaction.
    """
    company = session.get(Company, project.company_id)
    realm_id = company.realm_id if company else None
    if not realm_id:
        return Reapplied(0, 0, 0)
    session.flush()
    result = session.execute(
        update(Actual)
        .where(
            Actual.project_id == project.id,
            or_(
                Actual.customer_ref.is_(None),
                Actual.customer_ref != (project.qbo_customer_id or ""),
            ),
        )
        .values(project_id=None, excluded_reason=None)
        .execution_options(synchronize_session=False)
    )
    released = cast("CursorResult[Any]", result).rowcount or 0
    if not project.qbo_customer_id:
        return Reapplied(0, 0, released)
    router = Router(pm, [project])
    rows = session.execute(
        select(
            Actual.id, Actual.plugin, Actual.exclusions, Actual.project_id, Actual.excluded_reason
        ).where(Actual.realm_id == realm_id, Actual.customer_ref == project.qbo_customer_id)
    ).all()
    moves: dict[tuple[int | None, str | None], list[int]] = defaultdict(list)
    for row_id, plugin, exclusions, was_project, was_reason in rows:
        rules = [Exclusion(str(s), bool(w), str(r)) for s, w, r in exclusions or ()]
        target = router.route(plugin, project.qbo_customer_id, rules)
        if target != (was_project, was_reason):
            moves[target].append(row_id)
    for (project_id, reason), ids in moves.items():
        for start in range(0, len(ids), 1000):
            session.execute(
                update(Actual)
                .where(Actual.id.in_(ids[start : start + 1000]))
                .values(project_id=project_id, excluded_reason=reason)
                .execution_options(synchronize_session=False)
            )
    return Reapplied(len(rows), sum(len(v) for v in moves.values()), released)
