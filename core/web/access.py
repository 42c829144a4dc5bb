"""Who may reach the console and the connect pages: this machine only, until sign-in exists.

Two checks, both needed. `from_this_machine` looks at the peer address, which keeps other
machines out. It cannot stop DNS rebinding: a page on a name the attacker later points at
127.0.0.1 is same-origin with the console, so the victim's own browser connects over loopback
and could read CSRF tokens and post forms. The `Host` header gives that away, so `create_app`
sets Flask's `TRUSTED_HOSTS` to `LOOPBACK_HOSTS` (plus the public names) and any other
`Host` gets 400.

Public endpoints beside a private console: `COSTBRIDGE_PUBLIC_HOSTS` names the host(s) Intuit
reaches (the webhook and the OAuth callback, through a reverse proxy). On those names only
`PUBLIC_ENDPOINTS` answer; anything else is 404 (`guard_public_host`). A request on a public
name, or carrying a proxy's forwarding header, never counts as this machine, even when the
proxy itself connects over loopback.
"""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import request

__all__ = [
    "FORWARDING_HEADERS",
    "LOOPBACK",
    "LOOPBACK_HOSTS",
    "PUBLIC_ENDPOINTS",
    "from_this_machine",
    "guard_public_host",
    "on_public_host",
]

#: Peer addresses that are this machine.
LOOPBACK = frozenset({"127.0.0.1", "::1"})

#: The default `TRUSTED_HOSTS`: the names a browser on this machine uses for the console (any
#: port). Werkzeug 3.1 matches no entry against a bracketed IPv6 `Host` (`[::1]:5000`), so
#: "::1" states the intent only: such requests get 400, they are never let through.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


#: What the public host names serve: Intuit's webhook and OAuth callback, and the probes.
PUBLIC_ENDPOINTS = frozenset(
    {"qbo_webhooks.receive", "qbo_oauth.callback", "ops.healthz", "ops.readyz"}
)
#: Headers a reverse proxy adds for the client behind it: such a request is not this machine's.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP")


def _public_hosts() -> tuple[str, ...]:
    runtime = current_app.extensions.get("costbridge")
    return tuple(getattr(getattr(runtime, "settings", None), "public_hosts", ()) or ())


def _console_hosts() -> tuple[str, ...]:
    runtime = current_app.extensions.get("costbridge")
    return tuple(getattr(getattr(runtime, "settings", None), "allowed_hosts", ()) or ())


def on_public_host() -> bool:
    """Whether the request's `Host` is one of `COSTBRIDGE_PUBLIC_HOSTS` (any port)."""
    hosts = _public_hosts()
    if not hosts:
        return False
    name = (request.host.rsplit(":", 1)[0] if "]" not in request.host else request.host).lower()
    # A name also listed for the signed-in console (COSTBRIDGE_ALLOWED_HOSTS) serves both.
    return name in hosts and name not in _console_hosts()


def from_this_machine() -> bool:
    """Whether the request came over the loopback interface from a client on this machine.

    A loopback peer is not enough: a reverse proxy on this machine connects over loopback for
    every outside client, so a forwarding header or a public host name rules it out. Behind
    `COSTBRIDGE_TRUSTED_PROXIES`, `remote_addr` is the address the proxy forwarded (anything the
    client wrote), so the peer that connected (`ProxyFix` keeps it) must be loopback too.
    """
    connected = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    if request.remote_addr not in LOOPBACK or (connected or request.remote_addr) not in LOOPBACK:
        return False
    if any(header in request.headers for header in FORWARDING_HEADERS):
        return False
    return not on_public_host()


def guard_public_host() -> None:
    """`before_request`: on a public host name, 404 for everything but `PUBLIC_ENDPOINTS`."""
    if on_public_host() and request.endpoint not in PUBLIC_ENDPOINTS:
        abort(404)
