"""`costbridge users create|list|set-companies|unlock`: the people who sign in to the console.

A user sees every company unless limited with `--company ID` (repeatable), for a group whose
companies keep their own accountants or a bookkeeper serving several clients.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from core.cli.common import fails_cleanly
from core.cli.common import runtime

__all__ = ["users"]


@click.group()
def users() -> None:
    """Console users and their roles (admin, support, viewer)."""


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "support", "viewer"]),
    default="viewer",
    show_default=True,
    help="admin: everything; support: queue, retries, sync log; viewer: read only.",
)
@click.option(
    "--company",
    "companies",
    type=int,
    multiple=True,
    help="Limit the user to this company's id (repeatable). Without it: every company.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)
@fails_cleanly
def users_create(email: str, role: str, companies: tuple[int, ...], password_stdin: bool) -> None:
    """Add a user who can sign in to the console (the first one: `--role admin`)."""
    from core.users import create_user
    from core.users import set_companies

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with runtime() as rt, rt.sessions() as session:
        user = create_user(session, email, password, role)
        if companies:
            set_companies(session, user, companies)
        session.commit()
        click.echo(
            f"costbridge: user {user.email} created with role {user.role.value}"
            f" ({_scope_words(session, user)})."
        )


def _scope_words(session: Any, user: Any) -> str:
    from core.users import company_names

    names = company_names(session, user)
    if names is None:
        return "every company"
    return "only " + ", ".join(names) if names else "no company"


@users.command("set-companies")
@click.argument("email")
@click.option(
    "--company",
    "companies",
    type=int,
    multiple=True,
    help="A company's id the user may see (repeatable); replaces the user's list.",
)
@click.option("--all-companies", is_flag=True, help="Let the user see every company.")
@fails_cleanly
def users_set_companies(email: str, companies: tuple[int, ...], all_companies: bool) -> None:
    """Limit a user to some companies, or (--all-companies) let them see every one."""
    from sqlalchemy import select

    from core.errors import CostbridgeError
    from core.models import User
    from core.users import normalise_email
    from core.users import set_companies

    if all_companies == bool(companies):
        raise CostbridgeError(
            "Say which companies the user may see.",
            fix="Give --company ID (repeatable) or --all-companies, not both.",
        )
    with runtime() as rt, rt.sessions() as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None:
            raise CostbridgeError(f"There is no user {email}.", fix="Run `costbridge users list`.")
        set_companies(session, user, None if all_companies else companies)
        session.commit()
        click.echo(f"costbridge: user {user.email} now sees {_scope_words(session, user)}.")


@users.command("list")
def users_list() -> None:
    """Every user with their role and last sign-in."""
    from sqlalchemy import select

    from core.models import User

    with runtime() as rt, rt.sessions() as session:
        for user in session.scalars(select(User).order_by(User.email)):
            seen = user.last_sign_in_at.isoformat() if user.last_sign_in_at else "never"
            state = "" if user.active else "  (disabled)"
            click.echo(
                f"{user.email:<40} {user.role.value:<8} last sign-in {seen}{state}"
                f"  companies: {_scope_words(session, user)}"
            )


@users.command("unlock")
@click.argument("email")
@fails_cleanly
def users_unlock(email: str) -> None:
    """Clear the account's failed sign-ins from every address (they lapse after 15 minutes)."""
    from sqlalchemy import select

    from core import sign_in_limits
    from core.errors import CostbridgeError
    from core.models import User
    from core.users import normalise_email

    address = normalise_email(email)
    with runtime() as rt:
        with rt.sessions() as session:
            if session.scalar(select(User.id).where(User.email == address)) is None:
                raise CostbridgeError(
                    f"There is no user {address!r}.", fix="See `costbridge users list`."
                )
        try:
            cleared = sign_in_limits.unlock(rt.redis, address)
        except sign_in_limits.Unavailable:
            raise CostbridgeError(
                "Redis does not answer, so the failed sign-ins cannot be cleared.",
                fix="Check REDIS_URL and that Redis runs, then try again.",
            ) from None
    if cleared:
        click.echo(f"costbridge: {address} may sign in again from any address.")
    else:
        click.echo(f"costbridge: {address} had no failed sign-ins to clear.")
