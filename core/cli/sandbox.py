"""`costbridge sandbox`: the local QuickBooks Online emulator.

The only place the product imports `sandbox/` (tests/test_import_graph.py holds it to that).
"""

from __future__ import annotations

import click

from core.cli.common import is_loopback

__all__ = ["sandbox"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--seed",
    type=click.Choice(["demo", "sample", "empty"]),
    default="demo",
    show_default=True,
    help="Start with the demo construction company, a company shaped like Intuit's "
    "sandbox company (sample), or an empty one.",
)
@click.option("--webhook-url", help="POST signed QBO-style webhook notifications here.")
@click.option("--webhook-verifier", help="Verifier token that signs them (intuit-signature).")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    help="Register an OAuth redirect URI for the costbridge-dev client (repeatable); "
    "like Intuit, the sandbox accepts only registered URIs, matched exactly.",
)
def sandbox(
    host: str,
    port: int,
    seed: str,
    webhook_url: str | None,
    webhook_verifier: str | None,
    redirect_uris: tuple[str, ...],
) -> None:
    """Run the local QuickBooks Online emulator (REST API, OAuth2, webhooks)."""
    if not is_loopback(host):
        raise click.BadParameter("the sandbox serves this machine only", param_hint="--host")
    if bool(webhook_url) != bool(webhook_verifier):
        raise click.BadParameter("give --webhook-url and --webhook-verifier together")
    from sandbox.server import serve_forever

    serve_forever(
        host=host,
        port=port,
        seed=seed,
        webhook_url=webhook_url,
        webhook_verifier=webhook_verifier,
        redirect_uris=redirect_uris,
    )
