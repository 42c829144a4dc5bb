"""``/upload`` and ``/download``: Attachable files (API.md §7).

The multipart body is parsed here rather than by Werkzeug: clients hand-build it (§13) with
bare LF line ends, parts named ``file_metadata_<suffix>``/``file_content_<suffix>`` and a
base64 content part without ``filename`` that a form parser would file among text fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from flask import request

from sandbox import faults
from sandbox.faults import QboFault

if TYPE_CHECKING:
    from sandbox.state import Realm
    from sandbox.state import Sandbox

# Intuit's Attachable reference lists these file types (API.md §7.2, unconfirmed).
ALLOWED_EXTENSIONS = frozenset(
    [
        "ai",
        "csv",
        "doc",
        "docx",
        "eps",
        "gif",
        "jpeg",
        "jpg",
        "ods",
        "pdf",
        "png",
        "rtf",
        "tif",
        "tiff",
        "txt",
        "xls",
        "xlsx",
        "xml",
    ]
)
ALLOWED_TYPES = frozenset(
    {
        "application/postscript",
        "text/csv",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/gif",
        "image/jpeg",
        "image/jpg",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/pdf",
        "image/png",
        "application/rtf",
        "text/rtf",
        "image/tiff",
        "text/plain",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/xml",
        "application/xml",
    }
)
_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


class Part:
    """One multipart part: lower-cased headers, disposition params and raw bytes."""

    def __init__(self, headers: dict[str, str], data: bytes) -> None:
        self.headers = headers
        self.data = data
        disposition = headers.get("content-disposition", "")
        self.params = {k.lower(): v.strip().strip('"') for k, v in _PARAM.findall(disposition)}

    @property
    def name(self) -> str:
        """The form field name."""
        return str(self.params.get("name", ""))

    def content(self) -> bytes:
        """The bytes, base64-decoded when the part says so."""
        if self.headers.get("content-transfer-encoding", "").strip().lower() == "base64":
            try:
                return base64.b64decode(b"".join(self.data.split()), validate=True)
            except (binascii.Error, ValueError):
                raise faults.validation(
                    "6000",
                    "A business validation error has occurred while processing your request",
                    "Business Validation Error: invalid base64 content",
                ) from None
        return self.data


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """Split a multipart body into parts, accepting CRLF or bare LF line ends."""
    match = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    if not match:
        raise faults.validation(
            "6000",
            "A business validation error has occurred while processing your request",
            "Business Validation Error: multipart boundary missing",
        )
    delimiter = b"--" + match.group(1).strip().encode("latin-1")
    chunks = body.split(delimiter)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        # The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        crlf = chunk.find(b"\r\n\r\n")
        lf = chunk.find(b"\n\n")
        cuts = [(i, n) for i, n in ((crlf, 4), (lf, 2)) if i >= 0]
        if not cuts:
            head, data = chunk, b""
        else:
            index, size = min(cuts)
            head, data = chunk[:index], chunk[index + size :]
        headers = {}
        for line in head.decode("utf-8", "replace").splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        parts.append(Part(headers, data))
    return parts


def _suffix(name: str, prefix: str) -> str | None:
    return name[len(prefix) :] if name.startswith(prefix) else None


def _allowed(file_name: str, content_type: str) -> bool:
    # Both must pass: a PDF content type does not make "x.exe" acceptable. A generic
    # octet-stream type is judged by the extension alone.
    ext = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    ctype = content_type.split(";")[0].strip().lower()
    ext_ok = ext in ALLOWED_EXTENSIONS if ext else ctype in ALLOWED_TYPES
    type_ok = ctype in ALLOWED_TYPES or (ctype == "application/octet-stream" and bool(ext))
    return ext_ok and type_ok


def upload(sb: Sandbox, realm: Realm) -> list[dict[str, Any]]:
    """Store each uploaded file; one ``{"Attachable"}`` or ``{"Fault"}`` per content part."""
    limit = sb.config.max_upload_bytes
    if request.content_length is not None and request.content_length > limit:
        raise faults.upload_too_large()
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise faults.upload_too_large()
    parts = parse_multipart(body, request.headers.get("Content-Type", ""))
    metadata: dict[str, Part] = {}
    contents: list[tuple[str, Part]] = []
    for part in parts:
        meta_suffix = _suffix(part.name, "file_metadata_")
        content_suffix = _suffix(part.name, "file_content_")
        if meta_suffix is not None:
            metadata[meta_suffix] = part
        elif content_suffix is not None:
            contents.append((content_suffix, part))
    if not contents:
        raise faults.required_field("file_content_0")
    out = []
    for suffix, part in contents:
        try:
            out.append({"Attachable": _store_one(realm, metadata.get(suffix), part)})
        except QboFault as fault:
            out.append({"Fault": fault.fault_object()})
    return out


def _store_one(realm: Realm, meta_part: Part | None, part: Part) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if meta_part is not None:
        try:
            meta = json.loads(meta_part.content().decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError):
            meta = None  # type: ignore[assignment]
        if not isinstance(meta, dict):
            raise faults.validation(
                "6040", "Invalid metadata", "file_metadata must be an Attachable JSON object"
            )
    data = part.content()
    file_name = str(meta.get("FileName") or part.params.get("filename") or "attachment")
    content_type = str(
        meta.get("ContentType") or part.headers.get("content-type") or "application/octet-stream"
    )
    if not _allowed(file_name, content_type):
        raise faults.validation(
            "6000",
            "A business validation error has occurred while processing your request",
            f"Business Validation Error: unsupported file type {content_type} ({file_name})",
            "ContentType",
        )
    return realm.attach_file(meta, file_name, content_type, data)


def download_url(realm: Realm, attachable_id: str) -> str:
    """The text/plain answer of ``/download/<id>``: a fresh temporary URL."""
    obj = realm.read("Attachable", attachable_id)
    if obj["Id"] not in realm.files:
        raise faults.object_not_found(f"Object Not Found : Attachable {attachable_id} has no file")
    return realm.temp_download_uri(obj["Id"])


def serve_temp(sb: Sandbox, realm_id: str, key: str) -> tuple[bytes, str, str] | None:
    """Bytes, content type and name behind a temp link, or None when unknown/expired."""
    if not sb.has_realm(realm_id):
        return None
    found = sb.realm(realm_id).temp_file(key)
    if found is None:
        return None
    name, ctype, data = found
    return data, ctype, name
