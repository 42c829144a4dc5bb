"""Console users for tests: add one with a role, and sign a Flask test client in as them."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from core.models import Role
from core.models import User

#: A hash no password matches: users made for a test client never sign in by password.
UNUSABLE_HASH = "!"


def add_user(
    sessions: sessionmaker[Session],
    email: str,
    role: Role | str = Role.ADMIN,
    password: str | None = None,
) -> int:
    """Commit a console user; with `password`, one that can sign in through the form.

    Returns:
        The user's id.
    """
    from core.users import create_user

    with sessions() as session:
        if password is not None:
            user = create_user(session, email, password, role)
        else:
            user = User(email=email, password_hash=UNUSABLE_HASH, role=Role(role))
            session.add(user)
        session.commit()
        return user.id


def remove_user(sessions: sessionmaker[Session], user_id: int) -> None:
    """Delete a user made by `add_user` (if a test has not emptied the table already)."""
    with sessions() as session:
        user = session.get(User, user_id)
        if user is not None:
            session.delete(user)
            session.commit()


def sign_in(
    client: Any, sessions: sessionmaker[Session], user_id: int, base_url: str | None = None
) -> Any:
    """Put a signed-in session for `user_id` in a Flask test client's cookie; returns it.

    `base_url` names the host the cookie is for (default: the test client's `localhost`).
    """
    with sessions() as session:
        user = session.get(User, user_id)
        assert user is not None, f"no user {user_id}"
        epoch = user.session_epoch
    where = {"base_url": base_url} if base_url else {}
    with client.session_transaction(**where) as flask_session:
        flask_session.permanent = True
        flask_session["uid"] = user_id
        flask_session["uep"] = epoch
        flask_session["ust"] = time.time()
    return client


def press_connect(client: Any, company_id: int, *, switch: bool = False, **request: Any) -> Any:
    """Press "Connect to QuickBooks" as a browser does: the company page's CSRF token, a POST.

    With `switch`, the button of the page "Switch this company to another QuickBooks company"
    instead. Extra keyword arguments go to both requests (`base_url`, `headers`).

    Returns:
        The POST's response (a redirect to the consent page when it worked).
    """
    import re

    page = f"/qbo/switch/{company_id}" if switch else f"/qbo/company/{company_id}"
    html = client.get(page, **request).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, f"{page} carries no form with a CSRF token"
    form = {"csrf_token": token.group(1), **({"switch": "1"} if switch else {})}
    return client.post(f"/qbo/connect/{company_id}", data=form, **request)
