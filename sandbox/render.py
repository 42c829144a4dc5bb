"""JSON in and out the way QBO does it: Decimal money, numbers without exponent."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sandbox import faults

_encode_str = json.JSONEncoder(ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """Serialise ``value``; Decimals become JSON numbers written in plain notation.

    The standard encoder can only write Decimals as strings or floats; QBO sends numbers, and
    floats would lose cents, so this small writer handles them itself.
    """
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


def _write(value: Any, out: Any) -> None:
    if isinstance(value, str):
        out(_encode_str(value))
    elif value is None or isinstance(value, bool | int):
        out(json.dumps(value))
    elif isinstance(value, Decimal):
        text = format(value, "f")
        out(text)
    elif isinstance(value, float):
        out(repr(value))
    elif isinstance(value, dict):
        out("{")
        first = True
        for key, item in value.items():
            if not first:
                out(",")
            first = False
            out(_encode_str(str(key)))
            out(":")
            _write(item, out)
        out("}")
    elif isinstance(value, list | tuple):
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _write(item, out)
        out("]")
    else:
        out(_encode_str(str(value)))


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_utf8(raw: bytes) -> str:
    """A request body as text; 500 "Unsupported Operation" when it is not UTF-8 (API.md §1.1)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise faults.unsupported_operation(
            "Unsupported Operation: request payload must be UTF-8 encoded."
        ) from None


def loads(raw: bytes) -> Any:
    """Parse a request body: UTF-8 only (else Fault 500), Decimal for every fraction.

    Raises:
        QboFault: 500 "Unsupported Operation" for non-UTF-8 bytes, 2010 for malformed JSON.
    """
    text = decode_utf8(raw)
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise faults.validation(
            "2010",
            "Request has invalid or unsupported property",
            f"Error parsing request body: {str(exc)[:200]}",
        ) from None
