"""QBO Fault bodies: one exception type, rendered by one error handler.

Shapes follow ``samples/fault.*.json`` (API.md §3): ``code`` is always a string, ``element``
is present (often ``""``) on validation faults and absent on gateway faults.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ErrorTuple = tuple[str, str, str, str | None]
"""(Message, Detail, code, element); element None leaves the key out."""

_STALE_DETAIL = (
    "Stale Object Error : You and Sandbox User were working on this at the same time. "
    "Sandbox User finished before you did, so your work was not saved."
)
_INACTIVE_DETAIL = (
    "Object Not Found : Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)
_DUPLICATE_DETAIL = (
    "The name supplied already exists. : Another customer, vendor or employee is already "
    "using this name. Please use a different name."
)


class QboFault(Exception):
    """A QBO error response.

    Args:
        status: HTTP status code.
        fault_type: ``Fault.type`` (``ValidationFault``, ``SystemFault``, ``SERVICE``...).
        errors: One tuple per ``Fault.Error`` element.
        headers: Extra response headers (e.g. ``WWW-Authenticate``).
        gateway: Render the lower-camel-case gateway variant
            (samples/fault.auth.gateway-variant.json) instead of ``{"Fault": ...}``.
    """

    def __init__(
        self,
        status: int,
        fault_type: str,
        errors: Sequence[ErrorTuple],
        *,
        headers: dict[str, str] | None = None,
        gateway: bool = False,
    ) -> None:
        super().__init__(f"{status} {fault_type}: {errors[0][2] if errors else ''}")
        self.status = status
        self.fault_type = fault_type
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.gateway = gateway

    @property
    def code(self) -> str:
        """The first error's code."""
        return self.errors[0][2] if self.errors else ""

    def fault_object(self) -> dict[str, Any]:
        """Return the value of the ``Fault`` key (used inside batch and upload items)."""
        errs: list[dict[str, Any]] = []
        for message, detail, code, element in self.errors:
            err: dict[str, Any] = {"Message": message, "Detail": detail, "code": str(code)}
            if element is not None:
                err["element"] = element
            errs.append(err)
        return {"Error": errs, "type": self.fault_type}

    def to_body(self, time_str: str) -> dict[str, Any]:
        """Return the full response body with the envelope ``time``."""
        if self.gateway:
            return _gateway_body(self)
        return {"Fault": self.fault_object(), "time": time_str}


class ThrottleFault(QboFault):
    """HTTP 429 as Intuit's gateway sends it (samples/throttle.429.body.json)."""

    def __init__(self, detail: str = "The request limit was reached.  Try again later") -> None:
        super().__init__(
            429,
            "SERVICE",
            [("message=ThrottleExceeded; errorCode=003001; statusCode=429", detail, "3001", None)],
        )


def _gateway_body(fault: QboFault) -> dict[str, Any]:
    # Only the auth gateway uses this shape; `time` is epoch milliseconds there.
    import time as _time

    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {"message": m, "detail": d, "code": str(c), "element": e}
                for m, d, c, e in fault.errors
            ],
            "type": fault.fault_type,
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(_time.time() * 1000),
        "status": None,
        "cdcresponse": [],
    }


def validation(code: str, message: str, detail: str, element: str = "") -> QboFault:
    """Return a 400 ValidationFault with one error."""
    return QboFault(400, "ValidationFault", [(message, detail, code, element)])


def stale_object() -> QboFault:
    """5010: the SyncToken sent is not the stored one (samples/fault.stale-synctoken.json)."""
    return validation("5010", "Stale Object Error", _STALE_DETAIL)


def object_not_found(detail: str | None = None) -> QboFault:
    """610: unknown, deleted or inactive object (samples/fault.object-not-found.json)."""
    return validation("610", "Object Not Found", detail or _INACTIVE_DETAIL)


def required_field(element: str, message: str | None = None) -> QboFault:
    """2020 with ``element`` naming the missing path (samples/fault.validation.json)."""
    return validation(
        "2020",
        message or "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element,
    )


def invalid_reference(element: str, entity: str, id_: str) -> QboFault:
    """2500: a reference names no object of the expected entity."""
    return validation(
        "2500",
        "Invalid Reference Id",
        f"Invalid Reference Id : {entity} assigned to this transaction has been deleted. "
        f"Before you can modify this transaction, you must restore {entity} "
        f"(Id:{id_}) (Ref: {element})",
        element,
    )


def duplicate_name(name: str = "") -> QboFault:
    """6240: the name is already used (samples/fault.duplicate-name.json).

    ``name`` is not part of QBO's Detail; it is accepted so callers can log it.
    """
    del name
    return validation("6240", "Duplicate Name Exists Error", _DUPLICATE_DETAIL)


def invalid_enum(value: str = "HAS_BEEN_BILLED", element: str = "") -> QboFault:
    """2170: an enumeration value the client may not send (samples/fault.invalid-enum.json)."""
    return validation("2170", "Invalid Enumeration", f"Invalid Enumeration : {value}", element)


def business_validation(detail: str, element: str = "") -> QboFault:
    """6000: a business rule refused the request (samples/fault.business-validation.json)."""
    return validation(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element,
    )


def string_too_long(element: str, limit: int) -> QboFault:
    """2050: a string longer than QBO allows, e.g. a ``requestid`` over 50 characters.

    API.md §2.7 gives the limits but not the Fault for breaking them; 2050 is the code its
    §3.2 table lists for string lengths, so the sandbox answers that (wording unconfirmed).
    """
    return validation(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"{element} is longer than {limit} characters",
        element,
    )


def invalid_field(element: str, detail: str) -> QboFault:
    """2010: a field has the wrong type or shape."""
    return validation(
        "2010", "Request has invalid or unsupported property", f"Property Name:{detail}", element
    )


def unsupported_operation(detail: str = "Operation not supported.") -> QboFault:
    """500: QBO's answer to non-UTF-8 bodies and unknown operations (API.md §1.1, §3.2)."""
    return validation("500", "Unsupported Operation", detail)


def parser_error(detail: str) -> QboFault:
    """4000: the query text could not be parsed."""
    return validation("4000", "Error parsing query", f"QueryParserError: {detail}")


def batch_too_large(limit: int = 30) -> QboFault:
    """1040: more items in ``/batch`` than allowed."""
    return validation(
        "1040",
        "Batch size exceeds allowed limit",
        f"Batch request exceeds the maximum of {limit} items.",
    )


def upload_too_large() -> QboFault:
    """6030: an upload request above 100 MB."""
    return validation(
        "6030",
        "Upload request size exceeds allowed limit",
        "Upload request size exceeds allowed limit (100 MB)",
    )


def request_too_large(limit: int) -> QboFault:
    """413 with a QBO-shaped body for JSON requests above the sandbox's size cap."""
    return QboFault(
        413,
        "ValidationFault",
        [("Request entity too large", f"Request body exceeds {limit} bytes", "500", "")],
    )


def not_found_url(path: str) -> QboFault:
    """404 for a URL no QBO resource answers."""
    return QboFault(
        404, "ValidationFault", [("Resource not found", f"No resource at {path}", "404", "")]
    )


def method_not_allowed(method: str, allowed: Sequence[str] = ()) -> QboFault:
    """405 for a method the resource does not support; ``allowed`` fills the ``Allow`` header."""
    return QboFault(
        405,
        "ValidationFault",
        [("Unsupported Operation", f"Method {method} is not supported here", "500", "")],
        headers={"Allow": ", ".join(allowed)} if allowed else None,
    )


def uri_too_long(limit: int) -> QboFault:
    """414 for a URL (path and query string) above the sandbox's cap (QBO's is undocumented)."""
    return QboFault(
        414,
        "ValidationFault",
        [("Request-URI Too Long", f"The request URL is longer than {limit} bytes", "414", "")],
    )


def unsupported_media_type(content_type: str) -> QboFault:
    """415 for a body whose Content-Type is not JSON where QBO expects JSON."""
    return QboFault(
        415,
        "ValidationFault",
        [
            (
                "Unsupported Media Type",
                f"Content-Type {content_type or '(none)'} is not supported here; "
                "send application/json",
                "415",
                "",
            )
        ],
    )


def http_error(status: int, message: str, detail: str) -> QboFault:
    """Any other HTTP-level refusal (bad request line, headers too large...) as a Fault.

    ``code`` is the HTTP status; 5xx are ``SystemFault``, the rest ``ValidationFault``.
    """
    fault_type = "SystemFault" if status >= 500 else "ValidationFault"
    return QboFault(status, fault_type, [(message, detail, str(status), "")])


def system_fault(detail: str = "An application error has occurred.") -> QboFault:
    """500 SystemFault: an unexpected server error (safe to retry once)."""
    return QboFault(
        500,
        "SystemFault",
        [("An application error has occurred while processing your request", detail, "10000", "")],
    )


def service_unavailable() -> QboFault:
    """503: the service is down for maintenance."""
    return QboFault(
        503,
        "SystemFault",
        [("Service Unavailable", "The service is temporarily unavailable.", "503", "")],
    )


def auth_failure(detail: str = "Token expired", *, gateway: bool = False) -> QboFault:
    """401 code 3200 (samples/fault.auth.json; ``gateway`` for the lower-case variant)."""
    return QboFault(
        401,
        "AUTHENTICATION" if gateway else "AuthenticationFault",
        [("message=AuthenticationFailed; errorCode=003200; statusCode=401", detail, "3200", None)],
        gateway=gateway,
    )


def authorization_failure(detail: str = "Authorization Failure") -> QboFault:
    """403 code 120: the token is valid but not for this company."""
    return QboFault(403, "AuthorizationFault", [("Authorization Failure", detail, "120", None)])
