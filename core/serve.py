"""Serving in production: gunicorn with costbridge's settings, logging and metrics directory.

`costbridge web` calls `serve_production` when `COSTBRIDGE_ENV=production`: gunicorn's
threaded workers (`COSTBRIDGE_WEB_WORKERS` processes of `COSTBRIDGE_WEB_THREADS` threads each),
each building its own app (no preloading: every worker opens its own database pool). Access
lines come from the app (`core.web.health`), not gunicorn, so they carry the request id and
never a query string; gunicorn's own lines use the same formatter.

`use_metrics_dir` must run before anything imports `prometheus_client` (`core.metrics`): the
library picks its storage when first imported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from core.config import Settings

__all__ = ["gunicorn_options", "prepare_process", "serve_production", "use_metrics_dir"]


def use_metrics_dir(settings: Settings) -> Path:
    """Point `PROMETHEUS_MULTIPROC_DIR` at the settings' directory, creating it.

    Counters there are totals since the directory was made; clear it only when neither the
    web app nor any worker on this machine is running.
    """
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.metrics_dir or "")
    if not str(path):
        path = settings.instance_path / "prometheus"
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def prepare_process(settings: Settings) -> None:
    """Logging and the metrics directory for `costbridge web` and `costbridge worker`.

    Call it first: it runs before anything imports `prometheus_client` (`use_metrics_dir`).
    """
    from core.logging_setup import configure_logging

    use_metrics_dir(settings)
    configure_logging(settings)


def gunicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    """gunicorn's settings for costbridge (`bind`, workers, threads, timeouts, logging)."""
    log_format = "core.logging_setup.JsonFormatter"
    if settings.log_format != "json":
        log_format = "core.logging_setup.TextFormatter"
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "worker_class": "gthread",
        "workers": settings.web_workers,
        "threads": settings.web_threads,
        "timeout": settings.web_timeout,
        # SIGTERM: stop accepting, let requests in progress finish for up to this long.
        "graceful_timeout": 30,
        "keepalive": 5,
        "preload_app": False,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "proc_name": "costbridge-web",
        # gunicorn 24+'s control socket lives at one path per user: two instances would collide.
        "control_socket_disable": True,
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"costbridge": {"()": log_format}},
            "filters": {"context": {"()": "core.logging_setup.ContextFilter"}},
            "handlers": {
                "error_console": {
                    "class": "logging.StreamHandler",
                    "formatter": "costbridge",
                    "filters": ["context"],
                    "stream": "ext://sys.stderr",
                },
            },
            # The app's own handler goes on the root logger once each worker loads the app.
            "root": {"level": settings.log_level, "handlers": []},
            "loggers": {
                "gunicorn.error": {
                    "level": settings.log_level,
                    "handlers": ["error_console"],
                    "propagate": False,
                },
            },
        },
        "child_exit": _child_exit,
    }


def _child_exit(_server: Any, worker: Any) -> None:
    """Forget a dead web worker's live gauges (prometheus_client multiprocess mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def serve_production(settings: Settings, host: str, port: int) -> None:
    """Run gunicorn in the foreground until SIGTERM or SIGINT (graceful) or SIGQUIT."""
    from gunicorn.app.base import BaseApplication

    use_metrics_dir(settings)
    options = gunicorn_options(settings, host, port)

    class CostbridgeGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from core.app import create_app
            from core.logging_setup import configure_logging

            configure_logging(settings)
            return create_app()

    CostbridgeGunicorn().run()


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's development request handler, naming no server or Python version."""

    def version_string(self) -> str:
        """The `Server` header: no product version, no Python version."""
        return "costbridge"
