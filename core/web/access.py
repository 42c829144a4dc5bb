"""Who may reach the console and the connect pages: this machine only, until sign-in exists.

Two checks, both needed. `from_this_machine` looks at the peer address, which keeps other
machines out. It cannot stop DNS rebinding: a page on a name the attacker later points at
127.0.0.1 is same-origin with the console, so the victim's own browser connects over loopback
and could read CSRF tokens and post forms. The `Host` header gives that away, so `create_app`
sets Flask's `TRUSTED_HOSTS` to `LOOPBACK_HOSTS` and any other `Host` gets 400.
"""

from __future__ import annotations

from flask import request

__all__ = ["LOOPBACK", "LOOPBACK_HOSTS", "from_this_machine"]

#: Peer addresses that are this machine.
LOOPBACK = frozenset({"127.0.0.1", "::1"})

#: The default `TRUSTED_HOSTS`: the names a browser on this machine uses for the console (any
#: port). Werkzeug 3.1 matches no entry against a bracketed IPv6 `Host` (`[::1]:5000`), so
#: "::1" states the intent only: such requests get 400, they are never let through.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def from_this_machine() -> bool:
    """Whether the request came over the loopback interface."""
    return request.remote_addr in LOOPBACK
