"""Webhook notifications as Intuit sends them (API.md §10, §12 item 12).

Every committed change (``Sandbox.emit``) becomes an event. Events that arrive within a short
window are batched into one POST, as Intuit batches them (RELIABILITY.md §2: 1/3/5 minutes in
production; a fraction of a second here). The body is the legacy ``eventNotifications`` object
(samples/webhook.payload.json) or a CloudEvents array
(samples/webhook.cloudevents.payload.json), signed with ``intuit-signature`` =
base64(HMAC-SHA256(verifier token, raw body)).

One background thread delivers notifications strictly in order. A failed delivery (non-2xx,
timeout, connection error) is retried on a schedule; later events wait behind it, as Intuit
holds them until the failed one is acknowledged (API.md §10.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlsplit

import requests

if TYPE_CHECKING:
    from sandbox.state import Sandbox

FORMATS = ("legacy", "cloudevents")

# Intuit retries at about 0 s, 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h, then every 6 h
# (API.md §10.1). The sandbox stops after this list instead of retrying forever.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0, 10, 20, 30, 300, 1200, 7200, 14400, 21600)
DEFAULT_BATCH_WINDOW = 0.5
# Intuit requires the endpoint to answer within 3 seconds; a slower answer counts as a failure.
DEFAULT_TIMEOUT = 3.0

_CLOUDEVENT_VERBS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Merge": "merged",
    "Void": "voided",
    "Emailed": "emailed",
}


@dataclass(frozen=True)
class _Event:
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    last_updated: str  # UTC, milliseconds, "Z" (samples/webhook.payload.json)


@dataclass
class _Notification:
    seq: int
    body: bytes
    events: int
    realms: list[str]
    format: str


class WebhookNotifier:
    """Turns sandbox changes into signed webhook POSTs with retries.

    Thread-safe. Delivery starts with :meth:`start` (also started on the first event when a
    URL is configured) and ends with :meth:`stop`.

    Args:
        sb: The sandbox; its config gives the starting URL, verifier and format.
    """

    def __init__(self, sb: Sandbox) -> None:
        self._sb = sb
        cfg = sb.config
        self.url: str | None = None
        self.verifier: str = ""
        self.format: str = "legacy"
        self.batch_window_seconds: float = DEFAULT_BATCH_WINDOW
        self.retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
        self.timeout_seconds: float = DEFAULT_TIMEOUT
        self.entities: frozenset[str] | None = None
        self._defaults()
        self._cond = threading.Condition()
        self._queue: deque[_Event] = deque()
        self._first_at: float | None = None  # monotonic time the oldest queued event arrived
        self._log: list[dict[str, Any]] = []
        self._seq = 0
        self._busy = False
        self._stopping = False
        self._stopped_by_user = False
        self._thread: threading.Thread | None = None
        # CloudEvents `source` is an app-specific opaque id in Intuit's payloads; derive a
        # stable one from the first OAuth client so repeated runs look the same.
        client = cfg.oauth_clients[0].client_id if cfg.oauth_clients else "sandbox"
        digest = hashlib.sha256(client.encode()).digest()
        self._source = "intuit." + base64.b64encode(digest).decode()

    # -- configuration -------------------------------------------------------------------------

    def _defaults(self) -> None:
        cfg = self._sb.config
        self.url = cfg.webhook_url or None
        self.verifier = cfg.webhook_verifier
        self.format = _check_format(cfg.webhook_format)
        self.batch_window_seconds = DEFAULT_BATCH_WINDOW
        self.retry_delays = DEFAULT_RETRY_DELAYS
        self.timeout_seconds = DEFAULT_TIMEOUT
        self.entities = None

    def configure(
        self,
        url: str | None = None,
        verifier: str | None = None,
        format: str | None = None,  # noqa: A002 - the control API's JSON key
        batch_window_seconds: float | None = None,
        retry_delays: Sequence[float] | None = None,
        timeout_seconds: float | None = None,
        entities: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Change delivery settings; arguments left as None keep their value.

        Args:
            url: Endpoint to POST to (http or https); ``""`` turns delivery off.
            verifier: The app's verifier token, the HMAC key of ``intuit-signature``.
            format: ``"legacy"`` (default) or ``"cloudevents"``.
            batch_window_seconds: Events within this long of the first queued one share a POST.
            retry_delays: Seconds to wait before each retry; its length is the retry count.
            timeout_seconds: A slower answer counts as a failed delivery (Intuit: 3 s).
            entities: Only these entity names (``["Bill", "Vendor"]``); ``[]`` means none,
                leave None for all.

        Returns:
            The settings now in force (verifier masked).

        Raises:
            ValueError: A value is malformed.
        """
        if url is not None and url != "":
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"webhook url must be an http(s) URL, got {url!r}")
        if format is not None:
            _check_format(format)
        if batch_window_seconds is not None and batch_window_seconds < 0:
            raise ValueError("batch_window_seconds must be >= 0")
        if retry_delays is not None and any(d < 0 for d in retry_delays):
            raise ValueError("retry_delays must be >= 0")
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be > 0")
        with self._cond:
            if url is not None:
                self.url = url or None
            if verifier is not None:
                self.verifier = verifier
            if format is not None:
                self.format = format
            if batch_window_seconds is not None:
                self.batch_window_seconds = float(batch_window_seconds)
            if retry_delays is not None:
                self.retry_delays = tuple(float(d) for d in retry_delays)
            if timeout_seconds is not None:
                self.timeout_seconds = float(timeout_seconds)
            if entities is not None:
                self.entities = frozenset(entities)
            self._cond.notify_all()
            return self._settings()

    def _settings(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "verifier_set": bool(self.verifier),
            "format": self.format,
            "batch_window_seconds": self.batch_window_seconds,
            "retry_delays": list(self.retry_delays),
            "timeout_seconds": self.timeout_seconds,
            "entities": sorted(self.entities) if self.entities is not None else None,
        }

    # -- events in -----------------------------------------------------------------------------

    def notify(
        self,
        realm_id: str,
        entity: str,
        entity_id: str,
        operation: str,
        last_updated: datetime | str,
    ) -> None:
        """Queue one change for delivery (a ``Sandbox`` change listener).

        Cheap and non-blocking: it runs inside the API request that made the change.
        """
        with self._cond:
            if self.url is None:
                return
            if self.entities is not None and entity not in self.entities:
                return
            self._queue.append(
                _Event(str(realm_id), entity, str(entity_id), operation, _utc_ms(last_updated))
            )
            if self._first_at is None:
                self._first_at = time.monotonic()
            self._cond.notify_all()
            start = self._thread is None and not self._stopped_by_user
        if start:
            self.start()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the delivery thread (idempotent)."""
        with self._cond:
            self._stopped_by_user = False
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the delivery thread and wait for it; undelivered events stay queued.

        Args:
            timeout: Seconds to wait for an in-progress POST to finish.
        """
        with self._cond:
            self._stopped_by_user = True
            self._stopping = True
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout)

    def reset(self) -> None:
        """Drop queued events and the delivery log and restore the config's settings."""
        with self._cond:
            self._defaults()
            self._queue.clear()
            self._first_at = None
            self._log.clear()

    # -- observation -------------------------------------------------------------------------------

    def deliveries(self) -> list[dict[str, Any]]:
        """Return every delivery attempt so far, oldest first.

        Returns:
            Dicts with ``notification`` (sequence number), ``attempt`` (1 = first try),
            ``url``, ``status`` (HTTP status or None), ``error`` (None or the connection
            error), ``ok``, ``final`` (no more attempts follow), ``gave_up``, ``events``,
            ``realms``, ``format`` and ``at`` (sandbox clock, ISO).
        """
        with self._cond:
            return [dict(entry) for entry in self._log]

    def pending(self) -> int:
        """Return how many events are queued and not yet being delivered."""
        with self._cond:
            return len(self._queue)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being delivered (tests use it).

        Returns:
            True if idle, False if the timeout ran out first.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # -- delivery thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        session = requests.Session()
        try:
            while True:
                notification = self._next_notification()
                if notification is None:
                    return
                try:
                    self._deliver(session, notification)
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        finally:
            session.close()

    def _next_notification(self) -> _Notification | None:
        """Block until a batch is due, then take it off the queue (None when stopping)."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if self._queue and self._first_at is not None:
                    due = self._first_at + self.batch_window_seconds
                    left = due - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                else:
                    self._cond.wait()
            events = list(self._queue)
            self._queue.clear()
            self._first_at = None
            self._busy = True
            self._seq += 1
            fmt = self.format
            body = _legacy_body(events) if fmt == "legacy" else self._cloudevents_body(events)
            realms = list(dict.fromkeys(e.realm_id for e in events))
            return _Notification(self._seq, body, len(events), realms, fmt)

    def _deliver(self, session: requests.Session, note: _Notification) -> None:
        attempt = 0
        while True:
            attempt += 1
            with self._cond:
                url, verifier, timeout = self.url, self.verifier, self.timeout_seconds
                delays = self.retry_delays
            status: int | None = None
            error: str | None = None
            if url is None:
                error = "no webhook url configured"
            else:
                headers = {
                    "Content-Type": "application/json",
                    "intuit-signature": sign(verifier, note.body),
                }
                try:
                    resp = session.post(url, data=note.body, headers=headers, timeout=timeout)
                    status = resp.status_code
                    resp.close()
                except requests.RequestException as exc:
                    error = f"{type(exc).__name__}: {exc}"
            ok = status is not None and 200 <= status < 300
            retry = not ok and attempt <= len(delays)
            with self._cond:
                self._log.append(
                    {
                        "notification": note.seq,
                        "attempt": attempt,
                        "url": url,
                        "status": status,
                        "error": error,
                        "ok": ok,
                        "final": not retry,
                        "gave_up": not ok and not retry,
                        "events": note.events,
                        "realms": note.realms,
                        "format": note.format,
                        "at": self._sb.clock.now().isoformat(),
                    }
                )
                self._cond.notify_all()
                if not retry:
                    return
                # Interruptible wait: stop() must not hang for a 6-hour retry delay.
                deadline = time.monotonic() + delays[attempt - 1]
                while not self._stopping:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stopping:
                    return

    def _cloudevents_body(self, events: list[_Event]) -> bytes:
        items = []
        for e in events:
            verb = _CLOUDEVENT_VERBS.get(e.operation, e.operation.lower())
            items.append(
                {
                    "specversion": "1.0",
                    "id": str(uuid.uuid4()),
                    "source": self._source,
                    "type": f"qbo.{e.entity.lower()}.{verb}.v1",
                    "datacontenttype": "application/json",
                    "time": e.last_updated,
                    "intuitentityid": e.entity_id,
                    "intuitaccountid": e.realm_id,
                    "data": {},
                }
            )
        return json.dumps(items, separators=(",", ":")).encode()


def sign(verifier: str, body: bytes) -> str:
    """Return the ``intuit-signature`` header value for ``body``.

    Args:
        verifier: The app's webhook verifier token (the HMAC key).
        body: The exact bytes POSTed.
    """
    digest = hmac.new(verifier.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _legacy_body(events: list[_Event]) -> bytes:
    # One entry per company, in the order its first event arrived (samples/webhook.payload.json).
    by_realm: dict[str, list[dict[str, str]]] = {}
    for e in events:
        by_realm.setdefault(e.realm_id, []).append(
            {
                "name": e.entity,
                "id": e.entity_id,
                "operation": e.operation,
                "lastUpdated": e.last_updated,
            }
        )
    payload = {
        "eventNotifications": [
            {"realmId": realm, "dataChangeEvent": {"entities": entities}}
            for realm, entities in by_realm.items()
        ]
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _utc_ms(value: datetime | str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"webhook format must be one of {FORMATS}, got {fmt!r}")
    return fmt
