"""`costbridge keys new|rotate`: the encryption keys of QBO tokens at rest."""

from __future__ import annotations

import click

from core.cli.common import runtime

__all__ = ["keys"]


@click.group()
def keys() -> None:
    """Encryption keys for QBO tokens at rest."""


@keys.command("new")
def keys_new() -> None:
    """Print a new key; put it first in TOKEN_ENCRYPTION_KEY, then run `keys rotate`."""
    from core.crypto import new_key

    click.echo(new_key())


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored token under the first key of TOKEN_ENCRYPTION_KEY.

    Afterwards the older keys can be removed from the variable.
    """
    from core.crypto import TokenVault
    from core.crypto import rotate_all

    with runtime() as rt, rt.sessions() as session:
        done = rotate_all(session, TokenVault(rt.settings.token_keys))
        session.commit()
    noun = "company" if done.companies == 1 else "companies"
    waiting = (
        f" and {done.pending_revocations} waiting to be revoked" if done.pending_revocations else ""
    )
    click.echo(f"costbridge: re-encrypted the tokens of {done.companies} {noun}{waiting}.")
