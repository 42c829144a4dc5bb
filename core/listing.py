"""Pages of projects and of a project's actual lines, for readers outside the console (the API).

Filters arrive as text (a query string) and are read here, each mistake refused with what is
wrong. Paging is by keyset, never by offset: a cursor is the sort key of the last row served,
so rows added or removed meanwhile neither repeat nor skip the rows after it. Projects go by id;
actual lines newest first, by transaction date then id (the order of the budget's pop-up, off
the same indexes). A cursor is opaque to callers (base64 of a small JSON) and names the query
it belongs to: used with other filters, it is refused rather than silently misread.

Which projects a user may read: only those of `core.scope.visible_company_ids`. Budget figures
are not computed here: the API serves `core.sync.reports.budget` as the console and CLI do.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from core.errors import CostbridgeError
from core.models import Actual
from core.models import CostCode
from core.models import Project
from core.scope import visible_company_ids
from core.sync.reports import UNCODED_CODE

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "ActualFilters",
    "ActualsPage",
    "BadQuery",
    "ProjectsPage",
    "actual_json",
    "actuals_page",
    "parse_actual_filters",
    "parse_limit",
    "project_json",
    "projects_page",
    "visible_project",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
EXCLUDED_CHOICES = ("false", "true", "all")
_TYPE = re.compile(r"[a-z0-9_]{1,24}")
_MAX_CURSOR = 200


class BadQuery(CostbridgeError):
    """A filter, page size or cursor that cannot be read; `field` names the parameter."""

    def __init__(self, field: str, message: str, *, fix: str = "") -> None:
        """Keep the parameter's name with the words."""
        super().__init__(message, fix=fix)
        self.field = field


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def parse_limit(raw: str | None) -> int:
    """The page size asked for (`limit`), from 1 to `MAX_LIMIT`; `DEFAULT_LIMIT` when not given.

    Raises:
        BadQuery: Not a whole number in that range.
    """
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadQuery(
            "limit",
            f"limit “{raw[:40]}” is not a page size from 1 to {MAX_LIMIT}.",
            fix=f"Ask for at most {MAX_LIMIT} rows a page and follow next_cursor for the rest.",
        )
    return int(raw)


# -- cursors ------------------------------------------------------------------------------------


def _fingerprint(kind: str, query: Mapping[str, Any]) -> str:
    text = json.dumps([kind, query], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode_cursor(key: list[Any], fingerprint: str) -> str:
    raw = json.dumps({"k": key, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(raw: str | None, fingerprint: str, size: int) -> list[Any] | None:
    """The sort key a cursor holds (a list of `size` values), or None for the first page."""
    if raw is None or raw == "":
        return None
    refused = BadQuery(
        "cursor",
        "That cursor is not one this API gave out.",
        fix="Pass next_cursor from the previous page unchanged, or leave cursor out to start over.",
    )
    if len(raw) > _MAX_CURSOR or not raw.isascii():
        raise refused
    try:
        body = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise refused from None
    if not isinstance(body, dict) or not isinstance(body.get("k"), list) or len(body["k"]) != size:
        raise refused
    if body.get("q") != fingerprint:
        raise BadQuery(
            "cursor",
            "That cursor belongs to a query with other filters.",
            fix="Keep the filters of the first page while following next_cursor.",
        )
    return list(body["k"])


# -- projects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectsPage:
    """One page of the projects a user may read, by id."""

    projects: list[Project]
    next_cursor: str | None


def _visible(session: Session, user_id: int) -> list[ColumnElement[bool]]:
    companies = visible_company_ids(session, user_id)
    return [] if companies is None else [Project.company_id.in_(sorted(companies))]


def projects_page(
    session: Session, user_id: int, *, cursor: str | None, limit: int
) -> ProjectsPage:
    """Up to `limit` projects the user may read, after `cursor`, by id.

    Raises:
        BadQuery: The cursor is not one this gave out.
    """
    fingerprint = _fingerprint("projects", {})
    after = _decode_cursor(cursor, fingerprint, 1)
    where = _visible(session, user_id)
    if after is not None:
        if not isinstance(after[0], int):
            raise BadQuery("cursor", "That cursor is not one this API gave out.")
        where.append(Project.id > after[0])
    rows = list(
        session.scalars(
            select(Project)
            .options(selectinload(Project.company))
            .where(*where)
            .order_by(Project.id)
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return ProjectsPage(rows, _encode_cursor([rows[-1].id], fingerprint) if more else None)


def visible_project(session: Session, user_id: int, project_id: int) -> Project | None:
    """The project, when it exists and the user may read it; None otherwise (either way)."""
    return session.scalar(
        select(Project).where(Project.id == project_id, *_visible(session, user_id))
    )


def project_json(project: Project) -> dict[str, Any]:
    """What the API shows of a project."""
    return {
        "id": project.id,
        "name": project.name,
        "number": project.number,
        "company_id": project.company_id,
        "company_name": project.company.name,
        "currency": project.company.home_currency,
        "linked": project.linked,
        "qbo_customer_id": project.qbo_customer_id,
        "qbo_customer_name": project.qbo_customer_name,
    }


# -- actual lines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActualFilters:
    """Which of a project's actual lines to list.

    `cost_codes`: codes as the budget shows them (`UNCODED` for lines with no cost code); none:
    every code. `types`: actual type names; none: every type. `date_from`/`date_to`: transaction
    dates, both inclusive. `excluded`: "false" lines that count (the default, what the budget
    sums), "true" lines the project's settings leave out, "all" both.
    """

    cost_codes: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    excluded: str = "false"

    def as_json(self) -> dict[str, Any]:
        """The filters as given back with every page."""
        return {
            "cost_code": list(self.cost_codes),
            "type": list(self.types),
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "excluded": self.excluded,
        }


def _date(field: str, raw: str | None) -> dt.date | None:
    if raw is None or raw == "":
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadQuery(
            field,
            f"{field} “{raw[:40]}” is not a date.",
            fix="Write dates as YYYY-MM-DD, e.g. 2025-06-30.",
        ) from None


def parse_actual_filters(
    cost_codes: Sequence[str],
    types: Sequence[str],
    date_from: str | None,
    date_to: str | None,
    excluded: str | None,
) -> ActualFilters:
    """The filters from query-string values, each read strictly.

    Raises:
        BadQuery: A malformed type, date or `excluded` value, or `from` after `to`.
    """
    for name in types:
        if _TYPE.fullmatch(name) is None:
            raise BadQuery(
                "type",
                f"type “{name[:40]}” is not an actual type's name.",
                fix="Use names as the budget's totals_by_type shows them, e.g. bill or time.",
            )
    codes = tuple(dict.fromkeys(c.strip() for c in cost_codes))
    if any(not c for c in codes):
        raise BadQuery("cost_code", "cost_code is empty.", fix="Give a cost code, or leave it out.")
    start, end = _date("from", date_from), _date("to", date_to)
    if start and end and start > end:
        raise BadQuery(
            "from",
            f"from ({start.isoformat()}) is after to ({end.isoformat()}).",
            fix="Swap them.",
        )
    choice = (excluded or "false").lower()
    if choice not in EXCLUDED_CHOICES:
        raise BadQuery(
            "excluded",
            f"excluded “{excluded[:40] if excluded else ''}” is not one of "
            f"{', '.join(EXCLUDED_CHOICES)}.",
            fix="false: the lines that count (default); true: the lines left out; all: both.",
        )
    return ActualFilters(codes, tuple(dict.fromkeys(types)), start, end, choice)


@dataclass(frozen=True)
class ActualsPage:
    """One page of a project's actual lines, newest first, with the count and sum of all."""

    lines: list[Actual]
    codes: dict[int, CostCode]
    count: int
    total: Decimal
    next_cursor: str | None


def _conditions(
    session: Session, project: Project, filters: ActualFilters, known_types: Sequence[str]
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Actual.project_id == project.id]
    if filters.excluded == "false":
        where.append(Actual.excluded_reason.is_(None))
    elif filters.excluded == "true":
        where.append(Actual.excluded_reason.is_not(None))
    if filters.cost_codes:
        wanted = [c for c in filters.cost_codes if c.upper() != UNCODED_CODE]
        found = {
            code: code_id
            for code, code_id in session.execute(
                select(CostCode.code, CostCode.id).where(
                    CostCode.company_id == project.company_id, CostCode.code.in_(wanted)
                )
            )
        }
        missing = [c for c in wanted if c not in found]
        if missing:
            raise BadQuery(
                "cost_code",
                f"This project's company has no cost code “{missing[0][:40]}”.",
                fix=f"Use a code as the budget lists it, or {UNCODED_CODE} for uncoded lines.",
            )
        either: list[ColumnElement[bool]] = []
        if found:
            either.append(Actual.cost_code_id.in_(sorted(found.values())))
        if len(wanted) < len(filters.cost_codes):
            either.append(Actual.cost_code_id.is_(None))
        where.append(or_(*either))
    if filters.types:
        stored = set(
            session.scalars(
                select(Actual.actual_type).where(Actual.project_id == project.id).distinct()
            )
        )
        unknown = [t for t in filters.types if t not in stored and t not in known_types]
        if unknown:
            names = ", ".join(sorted(set(known_types) | stored))
            raise BadQuery(
                "type",
                f"There is no actual type “{unknown[0]}”.",
                fix=f"Choose from {names}." if names else "Leave type out.",
            )
        where.append(Actual.actual_type.in_(filters.types))
    if filters.date_from:
        where.append(Actual.txn_date >= filters.date_from)
    if filters.date_to:
        where.append(Actual.txn_date <= filters.date_to)
    return where


def actuals_page(
    session: Session,
    project: Project,
    filters: ActualFilters,
    *,
    cursor: str | None,
    limit: int,
    known_types: Sequence[str] = (),
) -> ActualsPage:
    """Up to `limit` of the project's actual lines matching `filters`, after `cursor`.

    Args:
        session: Where to read.
        project: A project the reader may see (`visible_project`).
        filters: From `parse_actual_filters`.
        cursor: `next_cursor` of the previous page, or None for the first.
        limit: The page size (`parse_limit`).
        known_types: The registered actual types' names (`pm.actual_types()`); a type filter
            must name one of them or a type stored for the project.

    Raises:
        BadQuery: An unknown cost code or type, or a cursor of another query.
    """
    where = _conditions(session, project, filters, known_types)
    fingerprint = _fingerprint("actuals", {"project": project.id, **filters.as_json()})
    after = _decode_cursor(cursor, fingerprint, 2)
    count, total = session.execute(
        select(func.count(), func.sum(Actual.amount)).where(*where)
    ).one()
    page_where = list(where)
    if after is not None:
        try:
            day, last_id = dt.date.fromisoformat(str(after[0])), int(after[1])
        except (TypeError, ValueError):
            raise BadQuery("cursor", "That cursor is not one this API gave out.") from None
        page_where.append(
            or_(Actual.txn_date < day, and_(Actual.txn_date == day, Actual.id < last_id))
        )
    rows = list(
        session.scalars(
            select(Actual)
            .where(*page_where)
            .order_by(Actual.txn_date.desc(), Actual.id.desc())
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    ids = sorted({r.cost_code_id for r in rows if r.cost_code_id is not None})
    codes = (
        {c.id: c for c in session.scalars(select(CostCode).where(CostCode.id.in_(ids)))}
        if ids
        else {}
    )
    last = rows[-1] if rows else None
    next_cursor = (
        _encode_cursor([last.txn_date.isoformat(), last.id], fingerprint) if more and last else None
    )
    return ActualsPage(
        rows,
        codes,
        int(count or 0),
        Decimal(total or 0).quantize(Decimal("0.01")),
        next_cursor,
    )


#: The fields of an actual line, in the CSV's column order.
ACTUAL_FIELDS = (
    "id",
    "txn_date",
    "actual_type",
    "cost_code_id",
    "cost_code",
    "cost_code_name",
    "amount",
    "hours",
    "payee",
    "doc_number",
    "description",
    "billable_status",
    "counted",
    "excluded_reason",
    "qbo_entity",
    "qbo_id",
    "qbo_line_id",
    "item_name",
    "account_name",
    "class_name",
    "location_name",
    "currency",
    "original_amount",
    "qbo_updated_at",
    "pulled_at",
)


def actual_json(line: Actual, codes: Mapping[int, CostCode]) -> dict[str, Any]:
    """What the API shows of one actual line (money as strings with two decimals)."""
    code = codes.get(line.cost_code_id) if line.cost_code_id is not None else None
    return {
        "id": line.id,
        "txn_date": line.txn_date.isoformat(),
        "actual_type": line.actual_type,
        "cost_code_id": line.cost_code_id,
        "cost_code": code.code if code else (None if line.cost_code_id else UNCODED_CODE),
        "cost_code_name": code.name if code else None,
        "amount": _money(line.amount),
        "hours": None if line.hours is None else str(line.hours),
        "payee": line.payee,
        "doc_number": line.doc_number,
        "description": line.description,
        "billable_status": line.billable_status,
        "counted": line.excluded_reason is None,
        "excluded_reason": line.excluded_reason,
        "qbo_entity": line.qbo_entity,
        "qbo_id": line.qbo_id,
        "qbo_line_id": line.qbo_line_id,
        "item_name": line.item_name,
        "account_name": line.account_name,
        "class_name": line.class_name,
        "location_name": line.location_name,
        "currency": line.currency,
        "original_amount": _money(line.original_amount),
        "qbo_updated_at": line.qbo_updated_at.isoformat() if line.qbo_updated_at else None,
        "pulled_at": line.pulled_at.isoformat(),
    }
