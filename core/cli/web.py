"""`costbridge web`: the web app with the signed-in console, for people's browsers."""

from __future__ import annotations

import click

from core.cli.common import is_loopback
from core.cli.common import load_settings

__all__ = ["web"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def web(host: str, port: int) -> None:
    """Serve the web app and the signed-in admin console.

    With COSTBRIDGE_ENV=production it is served by gunicorn (COSTBRIDGE_WEB_WORKERS processes
    of COSTBRIDGE_WEB_THREADS threads); otherwise by Flask's development server.
    """
    settings = load_settings()
    if not is_loopback(host) and not settings.allowed_hosts:
        raise click.BadParameter(
            "beyond this machine, name the host names people use in COSTBRIDGE_ALLOWED_HOSTS "
            "(commas; serve them over HTTPS: the session cookie is Secure)",
            param_hint="--host",
        )
    from core.serve import prepare_process

    prepare_process(settings)
    if settings.env == "production":
        from core.serve import serve_production

        serve_production(settings, host, port)
        return
    from core.app import create_app
    from core.serve import QuietRequestHandler

    create_app().run(host=host, port=port, threaded=True, request_handler=QuietRequestHandler)
