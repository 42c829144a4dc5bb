"""QBO's XML answers: the ``IntuitResponse`` envelope (xsd/IntuitRestServiceDef.xsd).

QBO answers XML to a request that does not ask for JSON (API.md §1.1) and its gateway sends
the 429 throttle body as XML even to clients that do (§3.3). The sandbox renders the same
bodies it would send as JSON: JSON keys are the XSD's names (API.md: "XML attributes become
JSON keys as written"), so the mapping back is mechanical:

* a key starting with a lower-case letter is an XML attribute (``domain``, ``sparse``,
  ``status``, ``code``, ``element``, ``type``, ``name``, ``bId``, ``startPosition``,
  ``maxResults``, ``totalCount``...), except ``value`` of a reference, which is its text
  (XSD ``ReferenceType`` = string content + attributes ``name``, ``type``);
* any other key is an element; a list is the element repeated;
* ``None`` is left out, booleans are ``true``/``false``, numbers are written without exponent.

Element order is the JSON's (the XSD's sequence order is not re-imposed: unconfirmed whether
clients depend on it).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

NAMESPACE = "http://schema.intuit.com/finance/v3"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NAME_START = re.compile(r"[A-Za-z_]")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return _NOT_XML.sub("\ufffd", str(value))


def _name(key: Any) -> str:
    name = _NOT_NAME.sub("_", str(key)) or "_"
    return name if _NAME_START.match(name) else f"_{name}"


def _is_attribute(key: str) -> bool:
    return key[:1].islower()


def _fill(element: ET.Element, value: Any) -> None:
    """Put a JSON value's content (attributes, text, children) into ``element``."""
    if not isinstance(value, dict):
        if value is not None:
            element.text = _text(value)
        return
    for key, item in value.items():
        if item is None or isinstance(item, dict | list):
            continue
        if key == "value":
            element.text = _text(item)
        elif _is_attribute(key):
            element.set(_name(key), _text(item))
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, list):
            for entry in item:
                _fill(ET.SubElement(element, _name(key)), entry)
        elif isinstance(item, dict):
            _fill(ET.SubElement(element, _name(key)), item)
        elif key != "value" and not _is_attribute(key):
            ET.SubElement(element, _name(key)).text = _text(item)


def _gateway_as_fault(body: dict[str, Any]) -> dict[str, Any]:
    """The lower-camel-case gateway body (samples/fault.auth.gateway-variant.json) as a Fault."""
    fault = body.get("fault") or {}
    errors = [
        {"Message": e.get("message"), "Detail": e.get("detail"), "code": e.get("code")}
        for e in fault.get("error") or []
    ]
    return {"Fault": {"Error": errors, "type": fault.get("type")}}


def intuit_response(body: dict[str, Any], time_str: str) -> str:
    """``body`` (a JSON answer: entity, QueryResponse, Fault...) as an ``IntuitResponse``.

    Args:
        body: The JSON body the sandbox would send; its ``time`` becomes the root attribute.
        time_str: The envelope time, used when ``body`` has no string ``time`` (the gateway
            variant carries epoch milliseconds instead).
    """
    if "fault" in body and "Fault" not in body:
        body = _gateway_as_fault(body)
    time = body.get("time")
    root = ET.Element(
        "IntuitResponse",
        {"xmlns": NAMESPACE, "time": time if isinstance(time, str) else time_str},
    )
    _fill(root, {k: v for k, v in body.items() if k != "time"})
    return _DECLARATION + ET.tostring(root, encoding="unicode")


def throttle_response(body: dict[str, Any], time_str: str) -> str:
    """The 429 body exactly as Intuit's gateway sends it (API.md §3.3), whatever was asked.

    Indented, ``time`` before ``xmlns``, no ``element`` attribute: the form quoted in
    intuit/QuickBooks-V3-PHP-SDK issue #54 and routablehq/python-quickbooks issue #43.
    """
    time = body.get("time")
    root = ET.Element(
        "IntuitResponse",
        {"time": time if isinstance(time, str) else time_str, "xmlns": NAMESPACE},
    )
    fault = body.get("Fault") or {}
    fault_el = ET.SubElement(root, "Fault", {"type": _text(fault.get("type", "SERVICE"))})
    for error in fault.get("Error") or []:
        error_el = ET.SubElement(fault_el, "Error", {"code": _text(error.get("code", "3001"))})
        ET.SubElement(error_el, "Message").text = _text(error.get("Message", ""))
        ET.SubElement(error_el, "Detail").text = _text(error.get("Detail", ""))
    ET.indent(root, space="    ")
    return _DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
