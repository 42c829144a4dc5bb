"""`costbridge users create|list`: the people who sign in to the console."""

from __future__ import annotations

import sys

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
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)
@fails_cleanly
def users_create(email: str, role: str, password_stdin: bool) -> None:
    """Add a user who can sign in to the console (the first one: `--role admin`)."""
    from core.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with runtime() as rt, rt.sessions() as session:
        user = create_user(session, email, password, role)
        session.commit()
        click.echo(f"costbridge: user {user.email} created with role {user.role.value}.")


@users.command("list")
def users_list() -> None:
    """Every user with their role and last sign-in."""
    from sqlalchemy import select

    from core.models import User

    with runtime() as rt, rt.sessions() as session:
        for user in session.scalars(select(User).order_by(User.email)):
            seen = user.last_sign_in_at.isoformat() if user.last_sign_in_at else "never"
            state = "" if user.active else "  (disabled)"
            click.echo(f"{user.email:<40} {user.role.value:<8} last sign-in {seen}{state}")
