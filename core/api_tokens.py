"""API tokens: make one for a user, list them, revoke one, and check one a request sends.

A token is `cbt_` and 43 URL-safe characters (256 random bits from `secrets`), shown once when it
is made. Only its SHA-256 is stored: a random secret of that size cannot be guessed, so a fast
hash is enough (a slow one is for passwords people choose). A request's token is found by its
hash and compared again with `hmac.compare_digest`. The console (`admin.pages.api_tokens`), the
CLI (`costbridge api-tokens`) and the API (`core.web.api`) call these; none holds this logic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from core.db import utcnow
from core.errors import CostbridgeError
from core.models import ApiToken
from core.models import User
from core.users import normalise_email

__all__ = [
    "PREFIX",
    "READ",
    "NewToken",
    "TokenRefused",
    "TokenUser",
    "check_token",
    "create_token",
    "list_tokens",
    "revoke_token",
    "token_json",
]

#: Every token starts so, which lets people (and secret scanners) recognise one.
PREFIX = "cbt_"
#: The one scope there is: the API has no endpoint that changes anything.
READ = "read"
#: How many characters of a token the lists show.
HINT_LENGTH = 12
#: `last_used_at` moves at most this often per token: one small write a minute, not per request.
TOUCH_EVERY = dt.timedelta(minutes=1)
MAX_NAME = 100
_SHAPE = re.compile(r"cbt_[A-Za-z0-9_-]{43}")


class TokenRefused(CostbridgeError):
    """A request's token does not let it in; `code` is the RFC 6750 error ("" when none sent)."""

    def __init__(self, message: str, *, fix: str = "", code: str = "invalid_token") -> None:
        """Remember the RFC 6750 error code beside the words."""
        super().__init__(message, fix=fix)
        self.code = code


@dataclass(frozen=True)
class NewToken:
    """A token just made: its row, and the secret, which is never shown again."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class TokenUser:
    """Who a request's token speaks for (a plain value; no ORM row outlives the request)."""

    token_id: int
    user_id: int
    email: str
    scope: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise CostbridgeError(
            f"There is no user {email}.", fix="Run `costbridge users list` to see who there is."
        )
    return user


def create_token(session: Session, user: User | str, name: str = "") -> NewToken:
    """A new read-only token for `user` (a row or an e-mail address); the caller commits.

    Raises:
        CostbridgeError: No such user, the user is disabled, or the name is too long.
    """
    owner = _user_by_email(session, user) if isinstance(user, str) else user
    if not owner.active:
        raise CostbridgeError(
            f"The user {owner.email} is disabled, so a token of theirs could not be used.",
            fix="Make the token for an active user.",
        )
    label = " ".join(name.split()) or "API token"
    if len(label) > MAX_NAME:
        raise CostbridgeError(
            f"A token's name may have at most {MAX_NAME} characters.", fix="Choose a shorter one."
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=owner.id,
        name=label,
        token_hash=_digest(secret),
        hint=secret[:HINT_LENGTH],
        scope=READ,
    )
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def list_tokens(session: Session, user_id: int | None = None) -> list[ApiToken]:
    """Every token (or only `user_id`'s), newest first, revoked ones included."""
    query = select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def revoke_token(
    session: Session, token_id: int, *, by: str, owner_id: int | None = None
) -> ApiToken:
    """Revoke a token at once; revoking it again changes nothing. The caller commits.

    Args:
        session: The session to write in.
        token_id: The token's id.
        by: Who revokes it (an e-mail address, or "command line"), kept with it.
        owner_id: When given, only a token of this user may be revoked (a user revoking their
            own); another user's token is "no such token", as if it did not exist.

    Raises:
        CostbridgeError: There is no such token (for this user).
    """
    token = session.get(ApiToken, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise CostbridgeError(
            f"There is no API token {token_id}.", fix="Run `costbridge api-tokens list`."
        )
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        token.revoked_by = by[:254]
    return token


def check_token(session: Session, authorization: str | None) -> TokenUser:
    """Who an `Authorization` header's bearer token speaks for; records its use. Commits.

    Raises:
        TokenRefused: No token, not a bearer token, a malformed, unknown or revoked token, or
            one whose user is disabled.
    """
    scheme, _, secret = (authorization or "").strip().partition(" ")
    if not scheme:
        raise TokenRefused(
            "This needs an API token.",
            fix="Send it as `Authorization: Bearer TOKEN`; make one on the console's "
            "API tokens page or with `costbridge api-tokens create EMAIL`.",
            code="",
        )
    if scheme.lower() != "bearer":
        raise TokenRefused(
            f"The API takes only bearer tokens, not {scheme[:20]!r} credentials.",
            fix="Send `Authorization: Bearer TOKEN`.",
            code="invalid_request",
        )
    secret = secret.strip()
    if _SHAPE.fullmatch(secret) is None:
        raise TokenRefused(
            "That is not a costbridge API token.",
            fix=f"A token starts with {PREFIX} and has {len(PREFIX) + 43} characters; copy it "
            "whole.",
        )
    digest = _digest(secret)
    row = session.execute(
        select(ApiToken, User).join(User).where(ApiToken.token_hash == digest)
    ).one_or_none()
    if row is None or not hmac.compare_digest(row[0].token_hash, digest):
        raise TokenRefused("This API token is unknown.", fix="Make a new one.")
    token, user = row
    if token.revoked_at is not None:
        raise TokenRefused("This API token was revoked.", fix="Make a new one.")
    if not user.active:
        raise TokenRefused(
            "The user of this API token is disabled.", fix="Ask an admin to enable the user."
        )
    _touch(session, token.id)
    return TokenUser(token.id, user.id, user.email, token.scope)


def _touch(session: Session, token_id: int) -> None:
    """Record the token's use, at most once per `TOUCH_EVERY` (an UPDATE that may match none)."""
    now = utcnow()
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def token_json(token: ApiToken) -> dict[str, Any]:
    """What lists show of a token: never the token or its hash."""
    return {
        "id": token.id,
        "user": token.user.email,
        "name": token.name,
        "hint": token.hint,
        "scope": token.scope,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "revoked_by": token.revoked_by,
    }
