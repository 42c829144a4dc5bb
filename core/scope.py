"""Which companies a user may see: the one place every page, download, listing, command and API
call asks.

`visible_company_ids` answers `None` for "every company" (today every user is of the whole
organisation), or the set of company ids the user is limited to.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

__all__ = ["visible_company_ids"]


def visible_company_ids(session: Session, user_id: int | None) -> frozenset[int] | None:
    """The companies `user_id` may see, or `None` for all of them."""
    del session, user_id
    return None
