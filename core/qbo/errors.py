"""QBO's Fault bodies and OAuth errors as typed exceptions, each in one `core.errors` family.

| exception | QBO code / status | family | what a job does |
|---|---|---|---|
| `StaleObject` | 5010 | Rejected | re-read and re-apply, or show the admin |
| `DuplicateName` | 6240 | Rejected | admin renames |
| `InvalidReference` | 610, 2500 | Rejected | admin fixes the mapping |
| `ValidationFault` | 2020, 2010, 2170, 6000, other 4xx | Rejected | admin fixes the record |
| `AuthenticationFailed` | 401, 3200, 100, 120, AuthorizationFault | NeedsAdmin | stop; reconnect |
| `ReconnectNeeded` | token endpoint `invalid_grant` | NeedsAdmin | stop; reconnect |
| `Throttled` | 429, 3001 | TryLater | wait as QBO asks |
| `ServerError` | 5xx, SystemFault | TryLater | retry with backoff |
| `NetworkError` | no answer | TryLater | retry with backoff |

Faults are read by the `Fault` key whatever the HTTP status (API.md §3.1, §13); the gateway's
lower-camel-case `fault` wrapper (§3.3) is read too. No exception here ever carries a token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.crypto import scrub
from core.errors import CostbridgeError
from core.errors import NeedsAdmin
from core.errors import Rejected
from core.errors import TryLater

__all__ = [
    "AuthenticationFailed",
    "DuplicateName",
    "InvalidReference",
    "NetworkError",
    "NotConnected",
    "QboError",
    "QboRejected",
    "ReconnectNeeded",
    "ServerError",
    "StaleObject",
    "Throttled",
    "ValidationFault",
    "error_from_response",
    "read_fault",
]


class QboError(CostbridgeError):
    """Something QBO answered (or failed to answer), with QBO's own words for support.

    Attributes:
        code: QBO's error code as a string ("5010"), or "" when there was no Fault body.
        qbo_message: QBO's `Message`.
        qbo_detail: QBO's `Detail`.
        element: The offending field's path, when QBO named one.
        intuit_tid: The `intuit_tid` response header (quote it to Intuit support).
        status: The HTTP status, when there was an answer.
        fault_type: `Fault.type` (`ValidationFault`, `SystemFault`, ...).
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str = "",
        code: str = "",
        qbo_message: str = "",
        qbo_detail: str = "",
        element: str = "",
        intuit_tid: str = "",
        status: int | None = None,
        fault_type: str = "",
    ) -> None:
        """Keep QBO's fields and build the support detail from them."""
        parts = [
            f"{k}={v}"
            for k, v in (
                ("status", status),
                ("type", fault_type),
                ("code", code),
                ("element", element),
                ("intuit_tid", intuit_tid),
            )
            if v not in (None, "")
        ]
        said = " ".join(p for p in (qbo_message, qbo_detail) if p)
        detail = "; ".join(p for p in (" ".join(parts), f"QBO said: {said}" if said else "") if p)
        super().__init__(message, fix=fix, detail=detail)
        self.code = code
        self.qbo_message = qbo_message
        self.qbo_detail = qbo_detail
        self.element = element
        self.intuit_tid = intuit_tid
        self.status = status
        self.fault_type = fault_type

    def __repr__(self) -> str:
        """Class, code and tid; enough to find it in QBO's logs."""
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"element={self.element!r}, intuit_tid={self.intuit_tid!r})"
        )


class QboRejected(QboError, Rejected):
    """QBO refused the request (a Fault not covered by a narrower class)."""


class StaleObject(QboRejected):
    """5010: someone changed the record in QBO since we read it (SyncToken mismatch)."""


class DuplicateName(QboRejected):
    """6240: the name is already used by another customer, vendor, employee or item."""


class InvalidReference(QboRejected):
    """610 / 2500: the request points at a QBO record that is missing or inactive."""


class ValidationFault(QboRejected):
    """2020 and the other ValidationFault codes: the record is incomplete or malformed."""


class AuthenticationFailed(QboError, NeedsAdmin):
    """QBO refused our credentials even after a fresh token (401, 3200, 100, 120)."""


class ReconnectNeeded(QboError, NeedsAdmin):
    """The refresh token is dead (`invalid_grant`): an admin must connect QuickBooks again."""


class NotConnected(QboError, NeedsAdmin):
    """The company has no QBO connection (never connected, disconnected or reconnect needed)."""


class Throttled(QboError, TryLater):
    """429 / 3001: QBO asked us to slow down; `retry_after` says for how long (seconds)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        """Remember the wait QBO asked for (or our documented default)."""
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(QboError, TryLater):
    """5xx or SystemFault: QBO failed on its side; retried with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        """A server error may also carry Retry-After (503)."""
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class NetworkError(QboError, TryLater):
    """No answer from QBO (connection refused or dropped, timeout); retried with backoff.

    `sent` is False only when the request surely never reached QBO (the connection could not
    be made); a write that was sent may have committed.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        """Same shape as the other TryLater errors."""
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.sent = True


def read_fault(body: Any) -> dict[str, str] | None:
    """Pull the first error of a Fault body into a flat dict, whatever the casing.

    Args:
        body: A parsed JSON response body (or one item of a batch / upload answer).

    Returns:
        `{"type", "code", "message", "detail", "element"}` or None when there is no Fault.
    """
    if not isinstance(body, Mapping):
        return None
    fault = body.get("Fault", body.get("fault"))
    if not isinstance(fault, Mapping):
        return None
    errors = fault.get("Error", fault.get("error")) or [{}]
    first = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, Mapping):
        first = {}

    def text(*keys: str) -> str:
        for key in keys:
            value = first.get(key)
            if value not in (None, ""):
                return str(value)
        return ""

    return {
        "type": str(fault.get("type", "") or ""),
        "code": text("code", "Code"),
        "message": text("Message", "message"),
        "detail": text("Detail", "detail"),
        "element": text("element", "Element"),
    }


_TOKEN_QUOTE = re.compile(r"(?i)(token\s+\w+\s*:\s*)\S+")
_AUTH_CODES = {"100", "120", "3200", "3100"}
_REFERENCE_CODES = {"610", "2500"}


def error_from_response(
    status: int,
    body: Any,
    *,
    intuit_tid: str = "",
    retry_after: float | None = None,
    what: str = "QuickBooks request",
) -> QboError:
    """Classify one QBO answer (an HTTP status and its parsed body) as a typed exception.

    Args:
        status: HTTP status (a Fault inside a 200 still counts).
        body: Parsed JSON body, or None when it was not JSON (XML 429 bodies, HTML 502s).
        intuit_tid: The response's `intuit_tid` header.
        retry_after: Seconds from a `Retry-After` header, if any.
        what: What we were doing, for the admin's sentence ("Creating a Bill").

    Returns:
        The exception to raise.
    """
    fault = read_fault(body) or {"type": "", "code": "", "message": "", "detail": "", "element": ""}
    # Intuit quotes the start of an expired token in the Detail (samples/fault.auth.json);
    # no part of a token may travel on in an exception.
    for key in ("message", "detail"):
        fault[key] = scrub(_TOKEN_QUOTE.sub(r"\1[redacted]", fault[key]))
    code = fault["code"]
    common: dict[str, Any] = {
        "code": code,
        "qbo_message": fault["message"],
        "qbo_detail": fault["detail"],
        "element": fault["element"],
        "intuit_tid": intuit_tid,
        "status": status,
        "fault_type": fault["type"],
    }
    ftype = fault["type"].lower()
    # QBO writes codes zero-padded inside gateway messages (errorCode=003001); compare numbers.
    norm = code.lstrip("0") or code
    if status == 429 or norm == "3001":
        return Throttled(
            f"{what} was throttled: QuickBooks allows only so many requests a minute.",
            fix="Nothing to do; it runs again shortly.",
            retry_after=retry_after,
            **common,
        )
    if status == 401 or norm in _AUTH_CODES or ftype.startswith(("authentication", "authoriza")):
        return AuthenticationFailed(
            "QuickBooks refused costbridge's connection for this company.",
            fix="Ask a QuickBooks admin to reconnect QuickBooks from the company page "
            "(the user who connected may have lost access, or the subscription lapsed).",
            **common,
        )
    if status >= 500 or ftype == "systemfault":
        return ServerError(
            f"{what} failed on QuickBooks' side (HTTP {status}).",
            fix="Nothing to do; it is retried automatically.",
            retry_after=retry_after,
            **common,
        )
    if norm == "5010":
        return StaleObject(
            "Someone changed this record in QuickBooks while costbridge was updating it.",
            fix="It is read again and retried; if it keeps failing, check the record in "
            "QuickBooks.",
            **common,
        )
    if norm == "6240":
        return DuplicateName(
            "QuickBooks already has a customer, vendor, employee or item with this name.",
            fix="Rename the record in costbridge or connect it to the existing QuickBooks record.",
            **common,
        )
    if norm in _REFERENCE_CODES:
        where = f" ({fault['element']})" if fault["element"] else ""
        return InvalidReference(
            f"This record points at something that no longer exists or is inactive in "
            f"QuickBooks{where}.",
            fix="Check the connected vendor, customer, employee or cost code and connect it "
            "again to an active QuickBooks record.",
            **common,
        )
    if ftype == "validationfault" or status == 400 or code:
        where = f" The field is {fault['element']}." if fault["element"] else ""
        return ValidationFault(
            f"QuickBooks refused this record: {fault['message'] or 'it is not valid'}.{where}",
            fix="Correct the record in costbridge and send it again.",
            **common,
        )
    return QboRejected(
        f"{what} was refused by QuickBooks (HTTP {status}).",
        fix="Show this to support with the detail below.",
        **common,
    )
