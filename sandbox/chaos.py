"""Fault injection for tests: error statuses, QBO Faults, latency and dropped connections.

A test (or the ``/_sandbox/faults`` control route) installs a rule; the request pipeline asks
:meth:`Chaos.before_request` on every ``/v3/...`` request and the OAuth token endpoint asks
:meth:`Chaos.before_token_request`. A rule fires for the next ``count`` matching requests, for
a random ``fraction`` of them, or for all of them until :meth:`Chaos.clear`.

Two moments are supported. ``phase="before"`` (default) acts before the request runs: nothing
is changed in the sandbox. ``phase="after"`` lets the request run (and commit) and then delays,
replaces or drops its answer: the "did my write happen?" case that idempotency keys and
reconcile-on-unknown exist for (RELIABILITY.md §1, §3 recipe 1).
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from flask import Response
from flask import after_this_request
from flask import g
from flask import has_request_context
from flask import jsonify
from flask import request

from sandbox import faults
from sandbox.faults import QboFault

if TYPE_CHECKING:
    from sandbox.state import Sandbox

_LATENCY_KEY = "_sandbox_chaos_latency"

TARGETS = ("api", "token")
PHASES = ("before", "after")

# Fault code -> (HTTP status, Fault.type, Message), from API.md §3.2/§3.3. Codes with a
# constructor in sandbox.faults use it instead (see _fault_for_code).
_CODE_TABLE: dict[str, tuple[int, str, str]] = {
    "100": (401, "AuthenticationFault", "General Authentication Error"),
    "120": (401, "AuthorizationFault", "Authorization Failure"),
    "600": (400, "ValidationFault", "Duplicate Request ID"),
    "2030": (400, "ValidationFault", "Invalid ID"),
    "2050": (
        400,
        "ValidationFault",
        "String length is either shorter or longer than supported by specification",
    ),
    "6140": (400, "ValidationFault", "Duplicate Document Number Error"),
    "6210": (400, "ValidationFault", "Duplicate Document Number Error"),
    "6190": (400, "ValidationFault", "Invalid Company Status"),
}

# OAuth error strings for injected token-endpoint statuses. Intuit does not document what its
# token endpoint says when it is overloaded or down; these are RFC 6749 §5.2 / §4.1.2.1 words.
_OAUTH_ERRORS: dict[int, str] = {
    400: "invalid_request",
    401: "invalid_client",
    429: "temporarily_unavailable",
    503: "temporarily_unavailable",
}


class ConnectionDropped(QboFault):
    """Raised after the client's socket was shut down; whatever is rendered is never seen.

    A QboFault subclass so the pipeline's ordinary Fault handler renders it quietly instead of
    logging it as an unexpected error.
    """

    def __init__(self) -> None:
        super().__init__(
            500, "SystemFault", [("Connection dropped", "Injected by sandbox chaos", "0", None)]
        )


class InjectedOAuthError(Exception):
    """An injected token-endpoint answer; the OAuth blueprint renders it as JSON.

    Args:
        status: HTTP status.
        body: JSON body (``{"error": ...}``).
        headers: Extra response headers.
    """

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__(f"{status} {body.get('error')}")
        self.status = status
        self.body = body
        self.headers = headers


@dataclass
class _Rule:
    target: str
    status: int | None
    fault_code: str | None
    remaining: int | None
    fraction: float | None
    latency: float
    drop: bool
    paths: tuple[str, ...] | None
    realm_id: str | None
    phase: str
    retry_after: int | None
    until: datetime | None
    seed: int | None
    rng: random.Random = field(repr=False, default_factory=random.Random)
    injected: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "status": self.status,
            "fault_code": self.fault_code,
            "remaining": self.remaining,
            "fraction": self.fraction,
            "latency_ms": round(self.latency * 1000),
            "drop_connection": self.drop,
            "paths": list(self.paths) if self.paths is not None else None,
            "realm_id": self.realm_id,
            "phase": self.phase,
            "retry_after": self.retry_after,
            "until": self.until.isoformat() if self.until else None,
            "seed": self.seed,
            "injected": self.injected,
        }


class Chaos:
    """Injects faults into sandbox requests on demand. Thread-safe.

    Args:
        sb: The sandbox (its clock times rules, its counters record injections).
    """

    def __init__(self, sb: Sandbox) -> None:
        self._sb = sb
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._injected: Counter[str] = Counter()

    # -- configuration -----------------------------------------------------------------------

    def configure(
        self,
        status: int | None = None,
        fault_code: str | int | None = None,
        count: int | None = None,
        fraction: float | None = None,
        latency_ms: float | None = None,
        drop_connection: bool = False,
        paths: list[str] | str | None = None,
        seed: int | None = None,
        *,
        target: str = "api",
        phase: str = "before",
        realm_id: str | None = None,
        retry_after: int | None = None,
        for_seconds: float | None = None,
        append: bool = False,
    ) -> dict[str, Any]:
        """Install a fault rule (replacing the current ones unless ``append``).

        Args:
            status: Answer with this HTTP status. 429 gets the throttle body
                (samples/throttle.429.body.json), 401 the auth Fault, others a QBO Fault.
            fault_code: Answer with this QBO Fault code (``"6000"``, ``"5010"``...) and its
                usual status (``status`` overrides). For ``target="token"`` it is the OAuth
                ``error`` string instead (``"invalid_grant"``).
            count: Fire for the next ``count`` matching requests only.
            fraction: Fire for this share (0 < f <= 1) of matching requests, at random.
            latency_ms: Delay the answer by this much real time. Alone, the delay is spent
                holding a throttle slot, as a slow QBO request would.
            drop_connection: Close the socket without answering (the client sees a
                connection error).
            paths: Only requests whose path starts with one of these prefixes (full path such
                as ``/v3/company/1/bill``, or the part after the realm such as ``bill``).
            seed: Seed for ``fraction``'s random choices (reproducible runs).
            target: ``"api"`` (``/v3/...``) or ``"token"`` (the OAuth token endpoint).
            phase: ``"before"`` the request runs, or ``"after"`` it ran and committed.
            realm_id: Only requests for this company.
            retry_after: Add a ``Retry-After`` header (seconds) to injected error answers;
                Intuit sends none (API.md §9), this is for testing clients that honour one.
            for_seconds: Rule expires this many seconds later on the sandbox clock.
            append: Add to the installed rules instead of replacing them; the first rule
                that fires wins.

        Returns:
            The new :meth:`state`.

        Raises:
            ValueError: An argument is out of range or nothing to inject was given.
        """
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        if status is not None and (
            isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
        ):
            raise ValueError(f"status must be an HTTP error status (400-599), got {status!r}")
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            raise ValueError(f"count must be a positive integer, got {count!r}")
        if fraction is not None and not (isinstance(fraction, int | float) and 0 < fraction <= 1):
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        if latency_ms is not None and (not isinstance(latency_ms, int | float) or latency_ms < 0):
            raise ValueError(f"latency_ms must be >= 0, got {latency_ms!r}")
        if for_seconds is not None and (
            not isinstance(for_seconds, int | float) or for_seconds <= 0
        ):
            raise ValueError(f"for_seconds must be > 0, got {for_seconds!r}")
        if status is None and fault_code is None and not latency_ms and not drop_connection:
            raise ValueError("give at least one of status, fault_code, latency_ms, drop_connection")
        if isinstance(paths, str):
            paths = [paths]
        rule = _Rule(
            target=target,
            status=status,
            fault_code=str(fault_code) if fault_code is not None else None,
            remaining=count,
            fraction=float(fraction) if fraction is not None else None,
            latency=(latency_ms or 0) / 1000.0,
            drop=bool(drop_connection),
            paths=tuple(paths) if paths is not None else None,
            realm_id=str(realm_id) if realm_id is not None else None,
            phase=phase,
            retry_after=retry_after,
            until=(
                self._sb.clock.now() + timedelta(seconds=for_seconds)
                if for_seconds is not None
                else None
            ),
            seed=seed,
            # Not cryptography: a reproducible choice of which requests fail.
            rng=random.Random(seed),  # noqa: S311
        )
        with self._lock:
            if not append:
                self._rules = []
            self._rules.append(rule)
        return self.state()

    def clear(self) -> dict[str, Any]:
        """Remove every rule and zero the injection counts.

        Returns:
            The state just before clearing (so a caller can read what was injected).
        """
        before = self.state()
        with self._lock:
            self._rules = []
            self._injected = Counter()
        return before

    def state(self) -> dict[str, Any]:
        """Return the installed rules and how many faults were injected.

        Returns:
            ``{"rules": [...], "injected": total, "injected_by": {"api:status": n, ...}}``.
        """
        with self._lock:
            return {
                "rules": [r.describe() for r in self._rules],
                "injected": sum(self._injected.values()),
                "injected_by": dict(self._injected),
            }

    def injected(self) -> int:
        """Return how many requests were hit by a rule since the last :meth:`clear`."""
        with self._lock:
            return sum(self._injected.values())

    # -- hooks called by the pipeline ---------------------------------------------------------

    def before_request(self, realm_id: str | None, path: str) -> None:
        """Apply a matching rule to a QBO API request.

        Args:
            realm_id: The request's company.
            path: The request path (full, or the part after ``/v3/company/<realm>/``).

        Raises:
            QboFault: An injected Fault (``ThrottleFault`` for 429).
            ConnectionDropped: The connection was dropped; render anything, nobody reads it.
        """
        rule = self._pick("api", realm_id, path)
        if rule is None:
            return

        def make() -> QboFault:
            return _api_fault(rule)

        self._apply(rule, make, _render_fault)

    def before_token_request(self, path: str = "") -> None:
        """Apply a matching ``target="token"`` rule to an OAuth token-endpoint request.

        Raises:
            InjectedOAuthError: The answer to send instead of running the grant.
            ConnectionDropped: The connection was dropped.
        """
        rule = self._pick("token", None, path)
        if rule is None:
            return

        def make() -> InjectedOAuthError:
            return _token_error(rule)

        self._apply(rule, make, _render_oauth_error)

    # -- internals ------------------------------------------------------------------------------

    def _pick(self, target: str, realm_id: str | None, path: str) -> _Rule | None:
        full = request.path if has_request_context() else ""
        now = self._sb.clock.now()
        with self._lock:
            for rule in list(self._rules):
                if rule.target != target:
                    continue
                if rule.until is not None and now >= rule.until:
                    continue
                if rule.remaining is not None and rule.remaining <= 0:
                    continue
                if rule.realm_id is not None and rule.realm_id != (realm_id or ""):
                    continue
                if rule.paths is not None and not _path_matches(rule.paths, path, full):
                    continue
                if rule.fraction is not None and rule.rng.random() >= rule.fraction:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                rule.injected += 1
                self._injected[f"{target}:{_kind(rule)}"] += 1
                self._sb.count("chaos:injected")
                return rule
        return None

    def _apply(
        self,
        rule: _Rule,
        make_error: Callable[[], Exception],
        render: Callable[[Exception, Sandbox], Response],
    ) -> None:
        answers = rule.status is not None or rule.fault_code is not None
        if rule.phase == "after" and has_request_context():
            sb = self._sb

            @after_this_request
            def _after(response: Response) -> Response:
                if rule.latency:
                    time.sleep(rule.latency)
                if rule.drop:
                    _drop_connection()
                    return response
                if answers:
                    return render(make_error(), sb)
                return response

            return
        if rule.drop:
            if rule.latency:
                time.sleep(rule.latency)
            _drop_connection()
            raise ConnectionDropped()
        if answers:
            if rule.latency:
                time.sleep(rule.latency)
            raise make_error()
        if rule.latency:
            if rule.target == "api":
                _defer_latency(rule.latency)
            else:
                # The token endpoint takes no throttle slot: sleep now, before the grant runs,
                # as `phase="before"` promises.
                time.sleep(rule.latency)


def sleep_pending_latency() -> None:
    """Sleep the latency Chaos deferred for the current request, if any.

    The throttle calls this once it holds the request's slot, so injected latency occupies a
    concurrency slot exactly as a slow QBO request does.
    """
    if not has_request_context():
        return
    seconds = g.pop(_LATENCY_KEY, 0.0)
    if seconds:
        time.sleep(seconds)


def _defer_latency(seconds: float) -> None:
    if not has_request_context():
        time.sleep(seconds)
        return
    setattr(g, _LATENCY_KEY, g.get(_LATENCY_KEY, 0.0) + seconds)

    @after_this_request
    def _fallback(response: Response) -> Response:
        # The request never reached a throttle slot (auth failed, unknown realm, throttled):
        # still answer late, as asked.
        sleep_pending_latency()
        return response


def _drop_connection() -> None:
    """Shut the client's socket down both ways so it sees the connection close unanswered.

    Werkzeug's server exposes the socket as ``werkzeug.socket``; writing the response later
    fails with a BrokenPipeError that Werkzeug treats as a dropped connection.
    """
    if not has_request_context():
        return
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return
    # Already gone is fine: the client has its connection error either way.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _path_matches(prefixes: tuple[str, ...], path: str, full: str) -> bool:
    candidates = [c for c in (path, full) if c]
    for prefix in prefixes:
        bare = prefix.lstrip("/")
        for cand in candidates:
            if cand.startswith(prefix) or cand.lstrip("/").startswith(bare):
                return True
    return False


def _kind(rule: _Rule) -> str:
    if rule.drop:
        return "drop"
    if rule.fault_code is not None:
        return f"fault:{rule.fault_code}"
    if rule.status is not None:
        return f"status:{rule.status}"
    return "latency"


def _api_fault(rule: _Rule) -> QboFault:
    fault = (
        _fault_for_code(rule.fault_code)
        if rule.fault_code is not None
        else _fault_for_status(rule.status or 500)
    )
    if rule.status is not None and rule.status != fault.status:
        fault.status = rule.status
    if rule.retry_after is not None:
        fault.headers["Retry-After"] = str(rule.retry_after)
    return fault


def _fault_for_status(status: int) -> QboFault:
    if status == 429:
        return faults.ThrottleFault()
    if status == 401:
        return faults.auth_failure("Token expired")
    if status == 403:
        return faults.authorization_failure()
    if status == 503:
        return faults.service_unavailable()
    if status >= 500:
        fault = faults.system_fault("Injected by sandbox chaos")
        fault.status = status
        return fault
    return QboFault(
        status,
        "ValidationFault",
        [("Request failed", "Injected by sandbox chaos", str(status), "")],
    )


def _fault_for_code(code: str) -> QboFault:
    builders: dict[str, Callable[[], QboFault]] = {
        "500": faults.unsupported_operation,
        "610": faults.object_not_found,
        "1040": faults.batch_too_large,
        "2010": lambda: faults.invalid_field("", "Injected by sandbox chaos"),
        "2020": lambda: faults.required_field("Line"),
        "2170": faults.invalid_enum,
        "2500": lambda: faults.invalid_reference("VendorRef", "Vendor", "1"),
        "3001": faults.ThrottleFault,
        "3200": faults.auth_failure,
        "4000": lambda: faults.parser_error("Injected by sandbox chaos"),
        "5010": faults.stale_object,
        "6000": lambda: faults.business_validation("Injected by sandbox chaos"),
        "6030": faults.upload_too_large,
        "6240": faults.duplicate_name,
        "10000": faults.system_fault,
    }
    if code in builders:
        return builders[code]()
    status, fault_type, message = _CODE_TABLE.get(code, (400, "ValidationFault", "Injected fault"))
    element = None if status == 401 else ""
    return QboFault(status, fault_type, [(message, f"{message} (sandbox chaos)", code, element)])


def _token_error(rule: _Rule) -> InjectedOAuthError:
    if rule.fault_code is not None:
        error = rule.fault_code
        status = rule.status or (401 if error == "invalid_client" else 400)
    else:
        status = rule.status or 500
        error = _OAUTH_ERRORS.get(status, "server_error")
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
    return InjectedOAuthError(status, {"error": error}, headers)


def _render_fault(exc: Exception, sb: Sandbox) -> Response:
    assert isinstance(exc, QboFault)
    resp = jsonify(exc.to_body(sb.clock.time_str()))
    resp.status_code = exc.status
    for key, value in exc.headers.items():
        resp.headers[key] = value
    return resp


def _render_oauth_error(exc: Exception, sb: Sandbox) -> Response:
    del sb
    assert isinstance(exc, InjectedOAuthError)
    resp = jsonify(exc.body)
    resp.status_code = exc.status
    for key, value in exc.headers.items():
        resp.headers[key] = value
    return resp
