"""Console users: create them, check a password, end every session of one.

Passwords are kept as salted hashes from `werkzeug.security` (scrypt), never in clear. The CLI
(`costbridge users`), the sign-in page and the demo call these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from core.db import utcnow
from core.errors import CostbridgeError
from core.models import Role
from core.models import User

#: NIST SP 800-63B asks for at least 8; a console that can disconnect the books asks a bit more.
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked when no user has the e-mail given, so a wrong address costs as long as a wrong
# password and sign-in timing does not tell which addresses exist.
_DUMMY_HASH = generate_password_hash("costbridge-no-such-user")


def normalise_email(email: str) -> str:
    """The address as stored: trimmed, lower case."""
    return email.strip().lower()


def password_problem(password: str) -> str | None:
    """Why a password cannot be used, in words; None when it can."""
    if len(password) < MIN_PASSWORD:
        return f"A password needs at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"A password may have at most {MAX_PASSWORD} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    return None


def create_user(session: Session, email: str, password: str, role: Role | str) -> User:
    """A new user with a hashed password; the caller commits.

    Raises:
        CostbridgeError: The address is malformed or taken, the password too weak or the role
            unknown.
    """
    address = normalise_email(email)
    if not _EMAIL.match(address) or len(address) > 254:
        raise CostbridgeError(f"{email!r} is not an e-mail address.", fix="Give one like a@b.com.")
    try:
        wanted = Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise CostbridgeError(f"There is no role {role!r}.", fix=f"Choose {names}.") from None
    problem = password_problem(password)
    if problem:
        raise CostbridgeError(problem, fix="Choose a longer password.")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise CostbridgeError(
            f"There is already a user {address}.", fix="Sign in as that user, or pick another."
        )
    user = User(email=address, password_hash=generate_password_hash(password), role=wanted)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this address and password, or None (same cost either way)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_sign_in_at = utcnow()
    return user


def end_sessions(user: User) -> None:
    """Make every session cookie of `user` stop working (sign-out everywhere)."""
    user.session_epoch = (user.session_epoch or 0) + 1


def count_users(session: Session) -> int:
    """How many users exist (the sign-in page says how to make the first one when none do)."""
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def set_companies(session: Session, user: User, company_ids: Iterable[int] | None) -> None:
    """Limit `user` to `company_ids`, or (None) let them see every company; the caller commits.

    Raises:
        CostbridgeError: A company id names no company, or an empty list was given (a user
            limited to no company could sign in and see nothing).
    """
    from core.models import Company
    from core.models import UserCompany

    session.execute(delete(UserCompany).where(UserCompany.user_id == user.id))
    if company_ids is None:
        user.limited = False
        session.flush()
        return
    wanted = sorted(set(company_ids))
    if not wanted:
        raise CostbridgeError(
            "A limited user needs at least one company.",
            fix="Give --company ID (see `costbridge companies list`), or --all-companies.",
        )
    found = set(session.scalars(select(Company.id).where(Company.id.in_(wanted))))
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise CostbridgeError(
            f"There is no company {', '.join(missing)}.", fix="Run `costbridge companies list`."
        )
    user.limited = True
    session.add_all(UserCompany(user_id=user.id, company_id=i) for i in wanted)
    session.flush()
    # The user's open sessions keep working; what they see changes with their next request.


def company_names(session: Session, user: User) -> list[str] | None:
    """The names of the companies `user` is limited to (None: every company)."""
    from core.models import Company
    from core.models import UserCompany

    if not user.limited:
        return None
    return list(
        session.scalars(
            select(Company.name)
            .join(UserCompany, UserCompany.company_id == Company.id)
            .where(UserCompany.user_id == user.id)
            .order_by(Company.name)
        )
    )
