"""QuickBooks classes and locations: the copy forms offer, name look-ups, and project defaults.

QBO tags a transaction with a Class (on each line) and a location, which its API calls a
Department (on the whole transaction). A project has a default of each, and a bill, invoice or
time entry may name its own; pushes send the record's own when it has one, else the project's.
The company's classes and departments are copied from QBO into `TrackingCategory` (`refresh`)
so the console's drop-downs and the CLI's names need no QBO request; a name not in the copy
asks QBO once more before it is refused.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import CostbridgeError
from core.models import Project
from core.models import SettingChange
from core.models import TrackingCategory

#: Our word for each kind -> the QBO entity it is.
ENTITIES = {"class": "Class", "location": "Department"}
#: `SettingChange.key` of a project's default of each kind.
HISTORY_KEYS = {"class": "qbo_class", "location": "qbo_location"}

ClientFactory = Callable[[], Any]


def refresh(session: Session, client: Any, company_id: int) -> dict[str, int]:
    """Copy the company's QBO classes and departments (active or not); how many of each.

    Records are matched by QBO id and updated in place; none is deleted (one QBO made inactive
    stays, inactive, so old records still show its name). The caller commits.
    """
    from core.qbo import queries  # not at import: the CLI loads no QBO client before it runs

    counts: dict[str, int] = {}
    for kind, entity in ENTITIES.items():
        stored = {
            row.qbo_id: row
            for row in session.scalars(
                select(TrackingCategory).where(
                    TrackingCategory.company_id == company_id, TrackingCategory.kind == kind
                )
            )
        }
        counts[kind] = 0
        # Name lists answer only active records unless a condition names Active (API.md §4).
        for row in client.query_all(entity, queries.in_("Active", [True, False])):
            qbo_id = str(row["Id"])
            name = str(row.get("Name") or qbo_id)
            found = stored.get(qbo_id)
            if found is None:
                found = TrackingCategory(company_id=company_id, kind=kind, qbo_id=qbo_id)
                session.add(found)
                stored[qbo_id] = found
            found.name = name[:200]
            found.full_name = str(row.get("FullyQualifiedName") or name)[:500]
            found.active = bool(row.get("Active", True))
            counts[kind] += 1
    session.flush()
    return counts


def choices(session: Session, company_id: int, kind: str) -> list[TrackingCategory]:
    """The company's active classes (or locations) by full name, for a drop-down."""
    return list(
        session.scalars(
            select(TrackingCategory)
            .where(
                TrackingCategory.company_id == company_id,
                TrackingCategory.kind == kind,
                TrackingCategory.active.is_(True),
            )
            .order_by(TrackingCategory.full_name)
        )
    )


def names(session: Session, company_id: int) -> dict[tuple[str, str], str]:
    """`(kind, QBO id) -> full name` of every copied class and location of the company."""
    return {
        (row.kind, row.qbo_id): row.full_name
        for row in session.scalars(
            select(TrackingCategory).where(TrackingCategory.company_id == company_id)
        )
    }


def name_of(session: Session, company_id: int, kind: str, qbo_id: str | None) -> str | None:
    """The full name of one class or location (its id in words when it is not copied)."""
    if not qbo_id:
        return None
    return names(session, company_id).get((kind, qbo_id), f"QuickBooks {kind} {qbo_id}")


def _match(rows: Sequence[TrackingCategory], wanted: str) -> list[TrackingCategory]:
    folded = wanted.casefold()
    for found in (
        [r for r in rows if r.full_name.casefold() == folded],
        [r for r in rows if r.name.casefold() == folded],
    ):
        if found:
            return found
    return []


def resolve(
    session: Session,
    company_id: int,
    kind: str,
    wanted: str | None,
    *,
    client: ClientFactory | None = None,
) -> str | None:
    """The QBO id of the class (or location) named `wanted`: its full name, or its own name.

    Empty text (or "none") means none: None. A name not in the copy makes `client()` (when
    given) refresh the copy once, in case it was added in QuickBooks since.

    Raises:
        CostbridgeError: No such name, several with that name, or it is inactive in QuickBooks.
    """
    text = (wanted or "").strip()
    if not text or text.casefold() == "none":
        return None
    rows = _all(session, company_id, kind)
    found = _match(rows, text)
    if not found and client is not None:
        refresh(session, client(), company_id)
        rows = _all(session, company_id, kind)
        found = _match(rows, text)
    entity = ENTITIES[kind]
    if len(found) > 1:
        raise CostbridgeError(
            f"Several QuickBooks {kind}es are called “{text}”: "
            + "; ".join(r.full_name for r in found)
            + ".",
            fix="Give the full name (Parent:Child) of the one you mean.",
        )
    if not found:
        close = difflib.get_close_matches(text, [r.full_name for r in rows], n=5, cutoff=0.5)
        hint = (
            "Did you mean: " + "; ".join(f"“{c}”" for c in close) + "?"
            if close
            else f"Check its name in QuickBooks ({_where(kind)})."
        )
        raise CostbridgeError(f"QuickBooks has no {kind} called “{text}” ({entity}).", fix=hint)
    chosen = found[0]
    if not chosen.active:
        raise CostbridgeError(
            f"The QuickBooks {kind} “{chosen.full_name}” is inactive.",
            fix=f"Make it active in QuickBooks ({_where(kind)}), or choose another.",
        )
    return chosen.qbo_id


def check_id(session: Session, company_id: int, kind: str, qbo_id: str | None) -> str | None:
    """`qbo_id` when it is one of the company's active classes (locations); empty is None.

    Raises:
        CostbridgeError: Not one of them (a stale or forged drop-down value).
    """
    if not qbo_id:
        return None
    row = session.scalar(
        select(TrackingCategory).where(
            TrackingCategory.company_id == company_id,
            TrackingCategory.kind == kind,
            TrackingCategory.qbo_id == qbo_id,
        )
    )
    if row is None or not row.active:
        raise CostbridgeError(
            f"That {kind} is not one of the company's active QuickBooks {kind}es.",
            fix="Pick one in the list (refresh it from QuickBooks if it is missing).",
        )
    return qbo_id


def _all(session: Session, company_id: int, kind: str) -> list[TrackingCategory]:
    return list(
        session.scalars(
            select(TrackingCategory).where(
                TrackingCategory.company_id == company_id, TrackingCategory.kind == kind
            )
        )
    )


def _where(kind: str) -> str:
    lists = "Classes" if kind == "class" else "Locations"
    return f"Settings → All lists → {lists}"


def set_project_defaults(
    session: Session,
    project: Project,
    wanted: dict[str, str | None],
    *,
    changed_by: str | None = None,
) -> list[str]:
    """Set the project's default class and/or location (`{"class": id, "location": id}`).

    Each id must be one of the company's active ones (None clears it); each change is kept in
    the project's setting history with the names. The caller commits.

    Returns:
        The kinds that changed.

    Raises:
        CostbridgeError: An unknown kind, or an id that is not an active class/location.
    """
    changed: list[str] = []
    for kind, qbo_id in wanted.items():
        if kind not in ENTITIES:
            raise CostbridgeError(f"There is no QuickBooks tag called {kind!r}.")
        check_id(session, project.company_id, kind, qbo_id)
    for kind, qbo_id in wanted.items():
        column = "qbo_class_id" if kind == "class" else "qbo_location_id"
        old = getattr(project, column)
        if old == qbo_id:
            continue
        session.add(
            SettingChange(
                project_id=project.id,
                key=HISTORY_KEYS[kind],
                old_value=_shown(session, project.company_id, kind, old),
                new_value=_shown(session, project.company_id, kind, qbo_id),
                changed_by=changed_by,
                changed_at=utcnow(),
            )
        )
        setattr(project, column, qbo_id)
        changed.append(kind)
    session.flush()
    return changed


def _shown(session: Session, company_id: int, kind: str, qbo_id: str | None) -> Any:
    if not qbo_id:
        return None
    return {"id": qbo_id, "name": name_of(session, company_id, kind, qbo_id)}
