"""`QboTransport`: how one call reaches one realm's QBO API, retried, throttled and authorised.

Every call carries the pinned `minorversion` (API.md §1.2), `Accept` and `Content-Type` JSON
(§13), and passes the shared per-realm throttle (`core.qbo.throttle`). Every write carries a
`requestid` (§2.7): the caller's stable one, or a fresh uuid4 reused verbatim on each retry of
that same call. The `intuit_tid` of each answer is logged.

Answers are read by the `Fault` key whatever the HTTP status (§3.1, §13) and raised as the typed
exceptions of `core.qbo.errors`. What is retried, and how:

- 5xx, SystemFault, no answer: reads are retried with jittered exponential backoff
  (tenacity), `max_attempts` in all. A write is retried here only when it surely never reached
  QBO (the connection could not be made): any other failure may have committed, and Intuit's
  `requestid` replay is not guaranteed (RELIABILITY.md §1), so the error goes up at once and the
  push marks the write "unknown" and looks its marker up before anything is sent again.
- 429 / 3001: wait as QBO asks: `Retry-After` when present, else `throttle_wait` seconds
  (Intuit says 60: §9) doubling per repeat; the wait is shared with every worker through the
  throttle's realm pause; never retried at once.
- 401: one forced token refresh (single-flight, `core.qbo.custody`) and one retry.
- Other Faults: raised at once.

JSON is parsed with `Decimal` for every number, and Decimals are written as plain numbers
(no exponent, no float on the way).

The calls themselves (entities, queries, CDC, batch, attachments) are in `core.qbo.client`,
`core.qbo.bulk` and `core.qbo.attachments`, all built on `QboTransport.request`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import re
import time
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from tenacity import RetryCallState
from tenacity import Retrying
from tenacity import retry_if_exception
from tenacity import stop_after_attempt

from core import metrics
from core.crypto import scrubbed_logger
from core.qbo.custody import AccessToken
from core.qbo.custody import TokenManager
from core.qbo.errors import AuthenticationFailed
from core.qbo.errors import NetworkError
from core.qbo.errors import ServerError
from core.qbo.errors import Throttled
from core.qbo.errors import error_from_response
from core.qbo.errors import read_fault
from core.qbo.throttle import RealmThrottle

# Named for the client, as before the split, so logging configs and filters that name
# `core.qbo.client` still see every call's line.
log = scrubbed_logger("core.qbo.client")

DEFAULT_THROTTLE_WAIT = 60.0  # API.md §9: Intuit's guidance is to wait 60 s after a 429.
TIMEOUT = (10.0, 130.0)  # connect, read: QBO cuts requests at 120 s (§1.1)
_DEC = "\u0000DEC:"
_DEC_RE = re.compile(r'"\\u0000DEC:([-0-9.]+)"')


def dumps(body: Any) -> str:
    """JSON for QBO: Decimals as plain numbers, dates as ISO strings."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError("QBO amounts must be finite")
            return f"{_DEC}{format(value, 'f')}"
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    return _DEC_RE.sub(r"\1", json.dumps(body, default=default, ensure_ascii=False))


def loads(text: str | bytes) -> Any:
    """Parse QBO JSON with every non-integer number as Decimal."""
    return json.loads(text, parse_float=Decimal)


class QboTransport:
    """One realm's QBO API at the level of single calls: `request` and what it needs.

    Args:
        realm_id: The company's realm.
        tokens: Hands out (and refreshes) access tokens.
        base_url: API host, e.g. `https://quickbooks.api.intuit.com` (`QBO_API_BASE`).
        minor_version: Sent as `minorversion` on every call.
        throttle: Shared limits; None sends unthrottled (bench, tests of the raw client).
        http: The requests session (tests may pass one that records calls).
        max_attempts: Attempts for 5xx and network errors.
        throttle_wait: Seconds to wait after a 429 without `Retry-After`.
        max_throttle_waits: 429s tolerated in one call before `Throttled` is raised.
        timeout: requests' (connect, read) timeout.
        sleep: How to wait (tests may steer it).
    """

    def __init__(
        self,
        realm_id: str,
        tokens: TokenManager,
        *,
        base_url: str,
        minor_version: int = 75,
        throttle: RealmThrottle | None = None,
        http: requests.Session | None = None,
        max_attempts: int = 4,
        throttle_wait: float = DEFAULT_THROTTLE_WAIT,
        max_throttle_waits: int = 8,
        timeout: tuple[float, float] = TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Keep the collaborators; nothing is sent until a call."""
        self.realm_id = str(realm_id)
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        self.minor_version = minor_version
        self.throttle = throttle
        self.http = http or requests.Session()
        self.max_attempts = max_attempts
        self.throttle_wait = throttle_wait
        self.max_throttle_waits = max_throttle_waits
        self.timeout = timeout
        self.sleep = sleep

    def __repr__(self) -> str:
        """Realm and host only."""
        return f"<{type(self).__name__} realm={self.realm_id} base={self.base_url}>"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        files: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        write: bool = False,
        request_id: str | None = None,
        batch: bool = False,
        what: str = "QuickBooks request",
    ) -> Any:
        """Send one logical call, with retries, throttling and token handling.

        Args:
            method: HTTP method.
            path: Path after `/v3/company/{realm}/`.
            params: Extra query parameters.
            json_body: Body to send as JSON.
            data: Raw body (query statements).
            files: Multipart parts (uploads).
            content_type: Content-Type for JSON/raw bodies.
            accept: Accept header (`text/plain` for download URLs).
            write: A create/update/delete: gets a `requestid`.
            request_id: The caller's stable requestid (else a fresh uuid4 when `write`).
            batch: Counts against the batch budget.
            what: Words for error messages ("Creating a Bill").

        Returns:
            The parsed JSON body (or the text, for non-JSON answers).
        """
        if write and not request_id:
            request_id = str(uuid.uuid4())
        query = dict(params or {})
        query["minorversion"] = str(self.minor_version)
        if request_id:
            query["requestid"] = request_id
        payload = dumps(json_body).encode("utf-8") if json_body is not None else data
        call = _Call(
            method,
            f"{self.base_url}/v3/company/{self.realm_id}/{path}",
            query,
            payload,
            files,
            content_type,
            accept,
            batch,
            what,
        )
        retrying = Retrying(
            retry=retry_if_exception(_retry_write if write else _retry_read),
            stop=stop_after_attempt(self.max_attempts),
            wait=_server_wait,
            sleep=self.sleep,
            reraise=True,
            before_sleep=_log_retry,
        )
        return retrying(self._call_with_waits, call)

    def _call_with_waits(self, call: _Call) -> Any:
        """One attempt as tenacity sees it: 429 waits and the 401 refresh happen inside."""
        token = self.tokens.access_token(self.realm_id)
        refreshed = False
        throttled = 0
        while True:
            try:
                return self._send(call, token)
            except Throttled as exc:
                throttled += 1
                # status None: our own throttle gave up waiting; nothing was sent, so the
                # job should go back to the queue rather than sit here longer.
                if exc.status is None or throttled > self.max_throttle_waits:
                    raise
                wait = self._throttle_wait(exc, throttled)
                exc.retry_after = wait
                log.warning(
                    "realm %s: throttled by QBO (intuit_tid=%s); waiting %.2fs",
                    self.realm_id,
                    exc.intuit_tid,
                    wait,
                )
                if self.throttle is not None:
                    self.throttle.pause(self.realm_id, wait)
                self.sleep(wait)
            except AuthenticationFailed as exc:
                if refreshed:
                    raise
                refreshed = True
                log.info(
                    "realm %s: QBO answered 401 (intuit_tid=%s); refreshing the token once",
                    self.realm_id,
                    exc.intuit_tid,
                )
                token = self.tokens.refresh(self.realm_id, seen_version=token.version)

    def _throttle_wait(self, exc: Throttled, repeat: int) -> float:
        if exc.retry_after is not None and exc.retry_after > 0:
            base = float(exc.retry_after)
        else:
            base = min(self.throttle_wait * 2 ** (repeat - 1), self.throttle_wait * 8)
        # Jitter only adds: never less than QBO asked for.
        return base + random.uniform(0, base * 0.1)  # noqa: S311 - jitter, not security

    def _send(self, call: _Call, token: AccessToken) -> Any:
        headers = {
            "Authorization": f"Bearer {token.value}",
            "Accept": call.accept,
        }
        if call.files is None:
            headers["Content-Type"] = call.content_type
        guard = (
            self.throttle.slot(self.realm_id, batch=call.batch)
            if self.throttle is not None
            else contextlib.nullcontext()
        )
        started = time.monotonic()
        with guard:
            try:
                resp = self.http.request(
                    call.method,
                    call.url,
                    params=call.params,
                    data=call.payload,
                    files=call.files,
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                metrics.qbo_request(None)
                log.warning(
                    "QBO %s %s: no answer (%s)", call.method, _short(call.url), type(exc).__name__
                )
                error = NetworkError(
                    f"{call.what} got no answer from QuickBooks.",
                    fix="Nothing to do; it is retried automatically.",
                    qbo_message=type(exc).__name__,
                )
                error.sent = not _never_connected(exc)
                raise error from None
        tid = resp.headers.get("intuit_tid", "")
        metrics.qbo_request(resp.status_code)
        log.info(
            "QBO %s %s -> %s intuit_tid=%s %.0fms",
            call.method,
            _short(call.url),
            resp.status_code,
            tid,
            (time.monotonic() - started) * 1000,
        )
        body = _parse(resp)
        if resp.status_code >= 400 or (isinstance(body, Mapping) and read_fault(body)):
            raise error_from_response(
                resp.status_code,
                body,
                intuit_tid=tid,
                retry_after=_retry_after(resp.headers.get("Retry-After")),
                what=call.what,
            )
        return body


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    params: dict[str, str]
    payload: bytes | None
    files: Any
    content_type: str
    accept: str
    batch: bool
    what: str


def _parse(resp: requests.Response) -> Any:
    ctype = resp.headers.get("Content-Type", "")
    text = resp.content
    if "json" in ctype or text[:1] in (b"{", b"["):
        try:
            return loads(text)
        except ValueError:
            return None
    if resp.status_code < 400:
        return resp.text
    return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _retry_read(exc: BaseException) -> bool:
    return isinstance(exc, ServerError | NetworkError)


def _retry_write(exc: BaseException) -> bool:
    """Only a write that never left this machine is sent again here (see the module doc)."""
    return isinstance(exc, NetworkError) and not exc.sent


def _never_connected(exc: requests.RequestException) -> bool:
    """Whether the request surely never reached QBO: the connection itself failed."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError) or not exc.args:
        return False
    reason = getattr(exc.args[0], "reason", exc.args[0])
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _server_wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    asked = getattr(exc, "retry_after", None)
    if asked:
        return float(asked)
    base: float = min(0.5 * 2 ** (state.attempt_number - 1), 8.0)
    return base + random.uniform(0, base / 2)  # noqa: S311 - jitter


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("QBO call failed (%r); attempt %s, retrying", exc, state.attempt_number)


def _short(url: str) -> str:
    return urlsplit(url).path
