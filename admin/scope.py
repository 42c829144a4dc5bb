"""Which companies the console's user may see, for every page (`core.scope` decides).

A user limited to some companies (`costbridge users create ... --company ID`) sees only their
rows: lists are filtered, and a page, download or action naming anything else answers 404, the
same as for an id that names nothing, so a limited user cannot tell which other rows exist.

Decisions:
- Rows of no company (an install-wide job, a realm no company holds) are shown only to users of
  every company.
- Adding a company and managing users need a user of every company (an admin limited to some
  companies administers those companies only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from typing import cast

from flask import abort
from flask import g
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import false
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import true

from core import scope
from core.models import Actual
from core.models import Attachment
from core.models import Bill
from core.models import BudgetLine
from core.models import Company
from core.models import Invoice
from core.models import Project
from core.models import RemoteMapping
from core.models import SyncCursor
from core.models import TimeEntry

__all__ = [
    "company_condition",
    "may_see",
    "of_visible",
    "require_company",
    "require_unlimited",
    "ScopedModelView",
    "of_companies",
    "row_company_id",
    "visible",
    "visible_condition",
]

#: Models whose company is their project's.
BY_PROJECT: tuple[type[Any], ...] = (BudgetLine, Bill, Invoice, TimeEntry, Attachment)
#: Models whose company is the one holding their realm.
BY_REALM: tuple[type[Any], ...] = (Actual, RemoteMapping, SyncCursor)


def visible() -> frozenset[int] | None:
    """The companies the request's user may see (None: every one), asked once per request."""
    if "cb_visible" not in g:
        from admin.auth import current_user
        from admin.pages.common import db

        user = current_user()
        g.cb_visible = scope.visible_company_ids(db(), user.id if user else None)
    return cast("frozenset[int] | None", g.cb_visible)


def may_see(company_id: int | None) -> bool:
    """Whether the request's user may see a row of `company_id`."""
    return scope.may_see(visible(), company_id)


def require_company(company_id: int | None) -> None:
    """404 unless the request's user may see company `company_id`."""
    if not may_see(company_id):
        abort(404)


def require_unlimited() -> None:
    """404 unless the request's user sees every company (adding companies, managing users)."""
    if visible() is not None:
        abort(404)


def company_condition(column: Any) -> ColumnElement[bool]:
    """`column` (a company id) is one the request's user may see."""
    return _in(column, visible())


def _in(column: Any, ids: frozenset[int] | None) -> ColumnElement[bool]:
    if ids is None:
        return true()
    if not ids:
        return false()
    return cast("ColumnElement[bool]", column.in_(sorted(ids)))


def of_companies(model: type[Any], ids: frozenset[int] | None) -> ColumnElement[bool]:
    """The condition that keeps only `model`'s rows of the companies `ids` (None: all).

    A model with no known company keeps no row unless `ids` is None (every company).
    """
    if ids is None:
        return true()
    if model is Company:
        return _in(Company.id, ids)
    if model in BY_PROJECT:
        projects = select(Project.id).where(_in(Project.company_id, ids))
        return cast("ColumnElement[bool]", model.project_id.in_(projects))
    if model in BY_REALM:
        realms = select(Company.realm_id).where(_in(Company.id, ids), Company.realm_id.is_not(None))
        return cast("ColumnElement[bool]", model.realm_id.in_(realms))
    if hasattr(model, "company_id"):
        return _in(model.company_id, ids)
    return false()


def visible_condition(model: type[Any]) -> ColumnElement[bool]:
    """The condition that keeps only `model`'s rows the request's user may see."""
    return of_companies(model, visible())


def of_visible(query: Select[Any], model: type[Any]) -> Select[Any]:
    """`query` of `model` keeping only the rows the request's user may see."""
    return query if visible() is None else query.where(visible_condition(model))


def row_company_id(row: Any) -> int | None:
    """The company a row belongs to (None: none, or not known)."""
    from admin.pages.common import db

    if isinstance(row, Company):
        return row.id  # None for a company not yet saved: only users of every company add one
    if isinstance(row, BY_PROJECT):
        project = db().get(Project, row.project_id)
        return project.company_id if project is not None else None
    if isinstance(row, BY_REALM):
        return db().scalar(select(Company.id).where(Company.realm_id == row.realm_id))
    company_id = getattr(row, "company_id", None)
    return company_id if isinstance(company_id, int) else None


def visible_ids(ids: Iterable[int | None]) -> set[int]:
    """The company ids of `ids` the request's user may see."""
    return {i for i in ids if i is not None and may_see(i)}


def _target(model: type[Any], name: str) -> type[Any] | None:
    relationship = inspect(model).relationships.get(name)
    return relationship.mapper.class_ if relationship is not None else None


class ScopedModelView:
    """Mixin for Flask-Admin model views: lists, counts, forms and saves keep to the user's
    companies (`admin.scope`); every drop-down of another row offers only visible rows, and on
    an edit only rows of the edited row's own company (a row never moves to another company).
    """

    model: Any

    def get_query(self) -> Any:
        """Flask-Admin's list (and bulk actions): only the user's companies' rows."""
        query = super().get_query()  # type: ignore[misc]
        return query if visible() is None else query.filter(visible_condition(self.model))

    def get_count_query(self) -> Any:
        """The list's count, filtered like `get_query`."""
        query = super().get_count_query()  # type: ignore[misc]
        return query if visible() is None else query.filter(visible_condition(self.model))

    def create_form(self, obj: Any = None) -> Any:
        """The create form, its drop-downs limited to the user's companies."""
        form = super().create_form(obj)  # type: ignore[misc]
        self._scope_form(form, None)
        return form

    def edit_form(self, obj: Any = None) -> Any:
        """The edit form, its drop-downs limited to the edited row's company."""
        form = super().edit_form(obj)  # type: ignore[misc]
        self._scope_form(form, obj)
        return form

    def _scope_form(self, form: Any, obj: Any) -> None:
        from admin.pages.common import db

        own = row_company_id(obj) if obj is not None else None
        for name, field in form._fields.items():
            target = _target(self.model, name)
            if target is None or not hasattr(field, "query_factory"):
                continue
            query = db().query(target).filter(visible_condition(target))
            if own is not None:
                query = query.filter(of_companies(target, frozenset({own})))
            field.query = query

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        """Before a save: the row is of a company the user may see (else 404)."""
        super().on_model_change(form, model, is_created)  # type: ignore[misc]
        require_company(row_company_id(model))
