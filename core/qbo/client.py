"""`QboClient`: one realm's QBO Accounting API v3, called safely.

Every call carries the pinned `minorversion` (API.md §1.2), `Accept` and `Content-Type` JSON
(§13), and passes the shared per-realm throttle (`core.qbo.throttle`). Every write carries a
`requestid` (§2.7): the caller's stable one, or a fresh uuid4 reused verbatim on each retry of
that same call. The `intuit_tid` of each answer is logged.

Answers are read by the `Fault` key whatever the HTTP status (§3.1, §13) and raised as the typed
exceptions of `core.qbo.errors`. What is retried, and how:

- 5xx, SystemFault, no answer: retried with jittered exponential backoff (tenacity),
  `max_attempts` in all; safe because reads are idempotent and writes carry their `requestid`.
- 429 / 3001: wait as QBO asks: `Retry-After` when present, else `throttle_wait` seconds
  (Intuit says 60: §9) doubling per repeat; the wait is shared with every worker through the
  throttle's realm pause; never retried at once.
- 401: one forced token refresh (single-flight, `core.qbo.tokens`) and one retry.
- Other Faults: raised at once.

JSON is parsed with `Decimal` for every number, and Decimals are written as plain numbers
(no exponent, no float on the way).
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
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState
from tenacity import Retrying
from tenacity import retry_if_exception_type
from tenacity import stop_after_attempt

from core.crypto import scrubbed_logger
from core.qbo import queries
from core.qbo.errors import AuthenticationFailed
from core.qbo.errors import NetworkError
from core.qbo.errors import QboError
from core.qbo.errors import QboRejected
from core.qbo.errors import ServerError
from core.qbo.errors import Throttled
from core.qbo.errors import error_from_response
from core.qbo.errors import read_fault
from core.qbo.throttle import RealmThrottle
from core.qbo.tokens import AccessToken
from core.qbo.tokens import TokenManager

if TYPE_CHECKING:
    from core.runtime import Runtime

log = scrubbed_logger(__name__)

DEFAULT_THROTTLE_WAIT = 60.0  # API.md §9: Intuit's guidance is to wait 60 s after a 429.
MAX_BATCH_ITEMS = 30  # API.md §6
TIMEOUT = (10.0, 130.0)  # connect, read: QBO cuts requests at 120 s (§1.1)
_DEC = "\u0000DEC:"
_DEC_RE = re.compile(r'"\\u0000DEC:([-0-9.]+)"')
_ALLOWED_DOWNLOAD_SUFFIXES = (".intuit.com", ".amazonaws.com")


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


@dataclass
class BatchResult:
    """One item's answer in a batch, found by its `bId`."""

    bid: str
    entity_name: str | None = None
    entity: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    error: QboError | None = None

    @property
    def ok(self) -> bool:
        """True when QBO did what the item asked."""
        return self.error is None


@dataclass
class CdcResult:
    """Changes per entity since a moment; deleted records appear as stubs (`status: Deleted`)."""

    changes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    time: str | None = None

    def deleted(self, entity: str) -> list[dict[str, Any]]:
        """The deleted stubs of one entity."""
        return [o for o in self.changes.get(entity, []) if o.get("status") == "Deleted"]


class QboClient:
    """The QBO Accounting API for one realm.

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
        return f"<QboClient realm={self.realm_id} base={self.base_url}>"

    @classmethod
    def for_runtime(cls, runtime: Runtime, realm_id: str, **kwargs: Any) -> QboClient:
        """A client wired from a runtime's settings, database and Redis."""
        from core.qbo.throttle import Limits

        settings = runtime.settings
        kwargs.setdefault("throttle", RealmThrottle(runtime.redis, Limits.from_settings(settings)))
        return cls(
            realm_id,
            runtime.qbo_tokens,
            base_url=settings.qbo_api_base,
            minor_version=settings.qbo_minor_version,
            **kwargs,
        )

    # -- entities -------------------------------------------------------------------------------

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        """Read one record (`GET /{entity}/{id}`)."""
        body = self.request("GET", f"{_path(entity)}/{entity_id}", what=f"Reading {entity}")
        return _unwrap(body, entity)

    def create(
        self, entity: str, body: Mapping[str, Any], *, request_id: str | None = None
    ) -> dict[str, Any]:
        """Create a record; pass a stable `request_id` to make retries across jobs safe."""
        answer = self.request(
            "POST",
            _path(entity),
            json_body=body,
            write=True,
            request_id=request_id,
            what=f"Creating a {entity}",
        )
        return _unwrap(answer, entity)

    def update(
        self,
        entity: str,
        body: Mapping[str, Any],
        *,
        sparse: bool = False,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Update a record (full, or sparse); the body carries `Id` and `SyncToken`.

        Raises:
            StaleObject: The SyncToken is not the current one (5010).
        """
        payload = dict(body)
        if sparse:
            payload["sparse"] = True
        answer = self.request(
            "POST",
            _path(entity),
            json_body=payload,
            write=True,
            request_id=request_id,
            what=f"Updating a {entity}",
        )
        return _unwrap(answer, entity)

    def delete(
        self, entity: str, entity_id: str, sync_token: str, *, request_id: str | None = None
    ) -> dict[str, Any]:
        """Delete a transaction or Attachable; returns the deleted stub."""
        answer = self.request(
            "POST",
            _path(entity),
            params={"operation": "delete"},
            json_body={"Id": str(entity_id), "SyncToken": str(sync_token)},
            write=True,
            request_id=request_id,
            what=f"Deleting a {entity}",
        )
        return _unwrap(answer, entity)

    def company_info(self) -> dict[str, Any]:
        """The realm's CompanyInfo (validates the connection, names the company)."""
        body = self.request("GET", f"companyinfo/{self.realm_id}", what="Reading company info")
        return _unwrap(body, "CompanyInfo")

    # -- query and CDC --------------------------------------------------------------------------

    def query(self, statement: str) -> dict[str, Any]:
        """Run one SELECT; returns the `QueryResponse` object (POSTed as application/text)."""
        body = self.request(
            "POST",
            "query",
            data=statement.encode("utf-8"),
            content_type="application/text",
            what="Querying QuickBooks",
        )
        response = body.get("QueryResponse", {}) if isinstance(body, Mapping) else {}
        return dict(response)

    def count(self, entity: str, *conditions: queries.Cond) -> int:
        """`SELECT COUNT(*)` with the conditions."""
        response = self.query(queries.select(entity, *conditions, count=True))
        return int(response.get("totalCount", 0))

    def query_all(
        self,
        entity: str,
        *conditions: queries.Cond,
        order_by: str = "Id",
        page_size: int = queries.MAX_RESULTS,
    ) -> Iterator[dict[str, Any]]:
        """Every matching row, paged `page_size` at a time (STARTPOSITION/MAXRESULTS, §4.3).

        Stops at the first page shorter than `page_size`.
        """
        start = 1
        while True:
            statement = queries.select(
                entity, *conditions, order_by=order_by, start_position=start, max_results=page_size
            )
            rows = self.query(statement).get(entity, [])
            yield from rows
            if len(rows) < page_size:
                return
            start += page_size

    def cdc(self, entities: Sequence[str], changed_since: dt.datetime) -> CdcResult:
        """Changed and deleted records of several entity types in one call (API.md §5).

        Args:
            entities: Entity names (`Bill`, `Purchase`, ...).
            changed_since: Aware datetime, at most 30 days ago.

        Returns:
            A list per requested entity (empty when nothing changed), deleted stubs included.
        """
        if changed_since.tzinfo is None:
            raise ValueError("changed_since must be aware")
        body = self.request(
            "GET",
            "cdc",
            params={
                "entities": ",".join(entities),
                "changedSince": changed_since.isoformat(timespec="seconds"),
            },
            what="Reading changes from QuickBooks",
        )
        result = CdcResult(changes={name: [] for name in entities}, time=body.get("time"))
        for block in body.get("CDCResponse", []) or []:
            fault = read_fault(block)
            if fault:
                raise error_from_response(400, block, what="Reading changes")
            for response in block.get("QueryResponse", []) or []:
                for key, value in response.items():
                    if isinstance(value, list):
                        result.changes.setdefault(key, []).extend(value)
        return result

    # -- batch ------------------------------------------------------------------------------------

    def batch(
        self, items: Sequence[Mapping[str, Any]], *, request_id: str | None = None
    ) -> dict[str, BatchResult]:
        """Run operations through `/batch`, 30 per request, results matched by `bId`.

        Args:
            items: `BatchItemRequest` elements, each with a unique `bId` (≤10 chars when a
                requestid is used, API.md §2.7) and an `operation` + entity, or a `Query`.
            request_id: Stable id for the whole call; each chunk gets one derived from it.

        Returns:
            One `BatchResult` per `bId`; a failed item carries its typed error.
        """
        bids = [str(item.get("bId", "")) for item in items]
        if any(not b for b in bids) or len(set(bids)) != len(bids):
            raise ValueError("every batch item needs a unique bId")
        base = request_id or str(uuid.uuid4())
        results: dict[str, BatchResult] = {}
        for index, start in enumerate(range(0, len(items), MAX_BATCH_ITEMS)):
            chunk = list(items[start : start + MAX_BATCH_ITEMS])
            # ≤36 chars, deterministic per chunk so a retried call replays each chunk (§2.7).
            chunk_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}:{index}"))
            body = self.request(
                "POST",
                "batch",
                json_body={"BatchItemRequest": chunk},
                write=True,
                request_id=chunk_id,
                batch=True,
                what="Sending a batch to QuickBooks",
            )
            answered = {str(r.get("bId")): r for r in body.get("BatchItemResponse", []) or []}
            for item in chunk:
                bid = str(item["bId"])
                results[bid] = _batch_result(bid, answered.get(bid))
        return results

    # -- attachments ------------------------------------------------------------------------------

    def upload(
        self,
        file_name: str,
        content: bytes,
        content_type: str,
        *,
        attach_to: Iterable[tuple[str, str]] = (),
        note: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Upload one file as an Attachable linked to records (multipart, API.md §7.2).

        Args:
            file_name: The name QBO shows.
            content: The bytes.
            content_type: MIME type (`application/pdf`).
            attach_to: `(entity, id)` pairs, e.g. `[("Bill", "146")]`.
            note: Optional note.
            request_id: Stable id for the upload.

        Returns:
            The created Attachable.
        """
        metadata: dict[str, Any] = {
            "FileName": file_name,
            "ContentType": content_type,
            "AttachableRef": [
                {"EntityRef": {"type": entity, "value": str(entity_id)}, "IncludeOnSend": False}
                for entity, entity_id in attach_to
            ],
        }
        if note:
            metadata["Note"] = note
        files = [
            ("file_metadata_0", (None, dumps(metadata).encode("utf-8"), "application/json")),
            ("file_content_0", (file_name, content, content_type)),
        ]
        body = self.request(
            "POST",
            "upload",
            files=files,
            write=True,
            request_id=request_id,
            what="Uploading an attachment",
        )
        answers = body.get("AttachableResponse", []) or []
        first = answers[0] if answers else {}
        if read_fault(first):
            raise error_from_response(400, first, what="Uploading an attachment")
        attachable = first.get("Attachable")
        if not isinstance(attachable, dict):
            raise QboRejected(
                "QuickBooks did not confirm the attachment upload.",
                fix="Try again; if it persists show support the detail.",
            )
        return attachable

    def download(self, attachable_id: str) -> bytes:
        """The bytes of an Attachable's file: ask `/download/{id}` for the URL, then GET it.

        The temporary URL is fetched without our bearer token and only from QBO's own hosts
        (or the configured API host), so a forged answer cannot send us elsewhere.
        """
        text = self.request(
            "GET",
            f"download/{attachable_id}",
            accept="text/plain",
            what="Downloading an attachment",
        )
        url = str(text).strip()
        self._check_download_url(url)
        try:
            resp = self.http.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise NetworkError(
                "Could not fetch the attachment from QuickBooks.",
                fix="Nothing to do; it is retried automatically.",
                qbo_message=type(exc).__name__,
            ) from None
        if resp.status_code != 200:
            raise error_from_response(resp.status_code, None, what="Downloading an attachment")
        return resp.content

    # -- the one way out --------------------------------------------------------------------------

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
            retry=retry_if_exception_type((ServerError, NetworkError)),
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
                log.warning(
                    "QBO %s %s: no answer (%s)", call.method, _short(call.url), type(exc).__name__
                )
                raise NetworkError(
                    f"{call.what} got no answer from QuickBooks.",
                    fix="Nothing to do; it is retried automatically.",
                    qbo_message=type(exc).__name__,
                ) from None
        tid = resp.headers.get("intuit_tid", "")
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

    def _check_download_url(self, url: str) -> None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        ours = (urlsplit(self.base_url).hostname or "").lower()
        if (
            parts.scheme not in ("http", "https")
            or not host
            or not (host == ours or host.endswith(_ALLOWED_DOWNLOAD_SUFFIXES))
        ):
            raise QboRejected(
                "QuickBooks gave a download address costbridge does not trust.",
                fix="Show this to support.",
                qbo_message=f"host {host!r}",
            )


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


def _path(entity: str) -> str:
    if not entity.isalpha():
        raise ValueError(f"not a QBO entity name: {entity!r}")
    return entity.lower()


def _unwrap(body: Any, entity: str) -> dict[str, Any]:
    if isinstance(body, Mapping):
        for key, value in body.items():
            if key.lower() == entity.lower() and isinstance(value, dict):
                return value
    raise QboRejected(
        f"QuickBooks answered without the {entity}.",
        fix="Show this to support.",
        qbo_message=str(list(body)[:5]) if isinstance(body, Mapping) else type(body).__name__,
    )


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


def _batch_result(bid: str, answer: Mapping[str, Any] | None) -> BatchResult:
    if answer is None:
        return BatchResult(
            bid,
            error=QboRejected(
                "QuickBooks did not answer this item of the batch.", fix="Send it again."
            ),
        )
    if read_fault(answer):
        return BatchResult(bid, error=error_from_response(400, answer, what="A batch item"))
    for key, value in answer.items():
        if key == "QueryResponse":
            return BatchResult(bid, query=dict(value))
        if key not in ("bId", "time") and isinstance(value, dict):
            return BatchResult(bid, entity_name=key, entity=value)
    return BatchResult(bid)
