"""`costbridge api-tokens create|list|revoke`: the read API's per-user tokens."""

from __future__ import annotations

import click

from core.cli.common import JSON
from core.cli.common import dump
from core.cli.common import fails_cleanly
from core.cli.common import runtime
from core.cli.common import say

__all__ = ["api_tokens"]


@click.group("api-tokens")
def api_tokens() -> None:
    """Tokens for the read API (/api/v1): read-only, one user's each, revocable."""


@api_tokens.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. the integration's name.")
@fails_cleanly
def api_tokens_create(email: str, name: str) -> None:
    """Make a read-only token for the user EMAIL and print it, once: it is not kept."""
    from core.api_tokens import create_token

    with runtime() as rt, rt.sessions() as session:
        made = create_token(session, email, name)
        session.commit()
        token_id, owner, label = made.token.id, made.token.user.email, made.token.name
    # The token alone on stdout, so a script can capture it; the words on stderr.
    click.echo(made.secret)
    say(
        f"API token {token_id} “{label}” made for {owner}. It is shown only now: keep it "
        "somewhere safe. Revoke it with `costbridge api-tokens revoke "
        f"{token_id}`."
    )


@api_tokens.command("list")
@click.option("--user", "email", default=None, help="Only this user's tokens.")
@JSON
@fails_cleanly
def api_tokens_list(email: str | None, as_json: bool) -> None:
    """Every token (never the token itself): owner, name, first characters, last use."""
    from sqlalchemy import select

    from core.api_tokens import list_tokens
    from core.api_tokens import token_json
    from core.errors import CostbridgeError
    from core.models import User
    from core.users import normalise_email

    with runtime() as rt, rt.sessions() as session:
        user_id = None
        if email is not None:
            user_id = session.scalar(select(User.id).where(User.email == normalise_email(email)))
            if user_id is None:
                raise CostbridgeError(
                    f"There is no user {email}.", fix="Run `costbridge users list`."
                )
        rows = [token_json(t) for t in list_tokens(session, user_id)]
    if as_json:
        dump(rows)
        return
    if not rows:
        click.echo("No API tokens.")
        return
    for row in rows:
        used = row["last_used_at"] or "never"
        state = f"  revoked {row['revoked_at']}" if row["revoked_at"] else ""
        click.echo(
            f"{row['id']:>5}  {row['user']:<32} {row['name'][:30]:<30} {row['hint']}…  "
            f"{row['scope']}  last used {used}{state}"
        )


@api_tokens.command("revoke")
@click.argument("token_id", type=int)
@fails_cleanly
def api_tokens_revoke(token_id: int) -> None:
    """Revoke the token TOKEN_ID at once (see `api-tokens list`)."""
    from core.api_tokens import revoke_token

    with runtime() as rt, rt.sessions() as session:
        token = revoke_token(session, token_id, by="command line")
        session.commit()
        click.echo(
            f"costbridge: API token {token.id} “{token.name}” of {token.user.email} is revoked."
        )
