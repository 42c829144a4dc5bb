"""Which companies a user may see: the one place every page, download, listing, command and API
call asks.

A user is either of the whole organisation (every company; the only kind that may manage users
or see install-wide jobs) or limited (`User.limited`) to the companies listed for them in
`user_company` (`costbridge users create ... --company ID`, `costbridge users set-companies`);
a limited user whose companies were all deleted sees none.
`visible_company_ids` answers `None` for "every company", or the set of company ids the user is
limited to. A user id of None is the install itself (the CLI, jobs): every company.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import User
from core.models import UserCompany

__all__ = ["may_see", "visible_company_ids"]


def visible_company_ids(session: Session, user_id: int | None) -> frozenset[int] | None:
    """The companies `user_id` may see, or `None` for all of them."""
    if user_id is None:
        return None
    limited = session.scalar(select(User.limited).where(User.id == user_id))
    if not limited:
        return None
    return frozenset(
        session.scalars(select(UserCompany.company_id).where(UserCompany.user_id == user_id))
    )


def may_see(visible: Iterable[int] | None, company_id: int | None) -> bool:
    """Whether a row of `company_id` is visible under `visible` (`visible_company_ids`' answer).

    A row of no company (an install-wide job, a realm no company holds) is visible only to users
    of every company.
    """
    if visible is None:
        return True
    return company_id is not None and company_id in visible
