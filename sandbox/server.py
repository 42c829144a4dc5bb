"""Runs the sandbox: a threaded Werkzeug server in a background thread, or in the foreground."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

from sandbox import faults
from sandbox.api import new_tid
from sandbox.config import DEV_CLIENT_ID
from sandbox.config import SandboxConfig
from sandbox.render import dumps
from sandbox.state import Sandbox


def _seed(sb: Sandbox, seed: str, realm_id: str | None = None) -> str | None:
    from sandbox import seed as seeding

    if seed == "demo":
        return seeding.seed_demo(sb, realm_id or seeding.DEMO_REALM_ID).id
    if seed == "empty":
        return seeding.seed_empty(sb, realm_id).id
    if seed == "sample":
        from sandbox.seed_sample import seed_sample

        return seed_sample(sb, realm_id).id
    if seed in ("none", ""):
        return None
    raise ValueError(f"unknown seed {seed!r} (expected 'demo', 'sample', 'empty' or 'none')")


_POLL_INTERVAL = 0.02
"""Seconds between the serve loop's checks for shutdown (its select() timeout)."""


_REQUEST_LINE_CAP = 65_536
"""http.server's limit on a request line (and each header line), in bytes."""


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without the per-request access log line (tests run thousands).

    Errors the HTTP layer answers before the app runs (request line over 64 KiB -> 414,
    headers too long or too many -> 431, bad request line -> 400, bad version -> 505) get a
    QBO Fault body instead of http.server's HTML page. The request's headers are not read
    yet then, so the body is JSON whatever the sandbox's format option.
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        del code, size

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        sb = _sandbox_of(self.server)
        time_str = sb.clock.time_str() if sb is not None else ""
        short, long_ = self.responses.get(code, ("Error", ""))
        if code == 414:
            fault = faults.uri_too_long(_REQUEST_LINE_CAP)
        else:
            fault = faults.http_error(code, message or short, explain or message or long_ or short)
        data = dumps(fault.to_body(time_str)).encode()
        if sb is not None:
            sb.count(f"status:{code}")
        self.log_error("code %d, message %s", code, message)
        # A request line too broken to parse leaves HTTP/0.9, which has no status line.
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        self.send_response(code, message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.send_header("intuit_tid", new_tid())
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(data)


def _sandbox_of(server: object) -> Sandbox | None:
    app = getattr(server, "app", None)
    found = getattr(app, "extensions", {}).get("sandbox")
    return found if isinstance(found, Sandbox) else None


class SandboxServer:
    """The sandbox on a local port, served from a background thread.

    Args:
        config: Sandbox settings; defaults to ``SandboxConfig()``.
        host: Interface to bind; keep it on loopback.
        port: TCP port; 0 picks a free one (read it back from ``url``).
        seed: ``"empty"`` (one company with a minimal chart of accounts), ``"demo"`` or
            ``"none"``.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str = "empty",
    ) -> None:
        from sandbox.app import create_sandbox_app

        self.sandbox = Sandbox(config)
        self.app = create_sandbox_app(self.sandbox)
        self._host = host
        self._port = port
        self._seed = seed
        self.realm_id: str | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:53122`` (valid once started)."""
        if self._server is None:
            raise RuntimeError("SandboxServer is not started")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> SandboxServer:
        """Bind, seed and serve in a daemon thread; returns once the socket listens."""
        if self._server is not None:
            return self
        self._server = make_server(
            self._host, self._port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.sandbox.base_url = self.url
        self.realm_id = _seed(self.sandbox, self._seed)
        self.sandbox.webhooks.start()
        # shutdown() waits for the serve loop to notice, which it does once per poll interval:
        # Werkzeug's default of 0.5 s would make every stop (one per test server) that slow.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name="sandbox-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and the webhook sender; safe to call twice."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sandbox.webhooks.stop()
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: str = "demo",
    webhook_url: str | None = None,
    webhook_verifier: str | None = None,
    config: SandboxConfig | None = None,
    redirect_uris: tuple[str, ...] = (),
    **config_overrides: Any,
) -> None:
    """Run the sandbox in the foreground until interrupted (the ``costbridge sandbox`` CLI).

    Args:
        host: Interface to bind; the sandbox is meant for loopback only.
        port: TCP port to listen on (0 picks a free one; the URL is printed either way).
        seed: ``"demo"`` (the demo construction company), ``"sample"`` (shaped like Intuit's
            sandbox company), ``"empty"`` or ``"none"``.
        webhook_url: Where to POST signed webhook notifications; None sends none.
        webhook_verifier: The verifier token used to sign them (``intuit-signature``).
        config: A full ``SandboxConfig`` to start from; defaults to ``SandboxConfig()``.
        redirect_uris: OAuth redirect URIs registered for the costbridge-dev client (the
            ``--redirect-uri`` option); matched exactly, as Intuit does.
        **config_overrides: Any other ``SandboxConfig`` field, e.g. ``company_tz``.

    Blocks until Ctrl-C, then stops the webhook sender and closes the socket.
    """
    cfg = config or SandboxConfig()
    for key, value in config_overrides.items():
        setattr(cfg, key, value)
    if webhook_url is not None:
        cfg.webhook_url = webhook_url
    if webhook_verifier is not None:
        cfg.webhook_verifier = webhook_verifier
    server = SandboxServer(cfg, host=host, port=port, seed=seed)
    for uri in redirect_uris:
        server.sandbox.oauth.register_redirect_uri(DEV_CLIENT_ID, uri)
    server.start()
    import sys

    sys.stdout.write(f"QBO sandbox listening on {server.url} (realm {server.realm_id})\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
