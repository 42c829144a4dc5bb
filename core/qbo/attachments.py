"""Attachments: uploading a file as an Attachable and downloading an Attachable's file.

`AttachmentCalls` adds them to `QboTransport`: the upload is one multipart `request` (API.md
§7.2); the download asks QBO for a temporary URL, then fetches it without our token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import SplitResult
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

from core.qbo.errors import NetworkError
from core.qbo.errors import QboRejected
from core.qbo.errors import error_from_response
from core.qbo.errors import read_fault
from core.qbo.transport import QboTransport
from core.qbo.transport import dumps

# Where QBO's temporary download URLs point: Intuit's own hosts and S3 buckets (global or
# regional endpoint), always over https. Any other amazonaws.com name (EC2, API Gateway...)
# could be anyone's server.
_ALLOWED_DOWNLOAD_HOST = re.compile(
    r"(?:[a-z0-9-]+\.)*intuit\.com"
    r"|[a-z0-9][a-z0-9.-]*\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com",
)
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_DOWNLOAD_REDIRECTS = 3


class AttachmentCalls(QboTransport):
    """Upload and download of Attachable files for one realm."""

    def upload(
        self,
        file_name: str,
        content: bytes,
        content_type: str,
        *,
        attach_to: Iterable[tuple[str, str]] = (),
        note: str | None = None,
        request_id: str,
    ) -> dict[str, Any]:
        """Upload one file as an Attachable linked to records (multipart, API.md §7.2).

        Args:
            file_name: The name QBO shows.
            content: The bytes.
            content_type: MIME type (`application/pdf`).
            attach_to: `(entity, id)` pairs, e.g. `[("Bill", "146")]`.
            note: Optional note.
            request_id: Stable id for the upload (required: one per file).

        Returns:
            The created Attachable.
        """
        if not request_id:
            raise ValueError("every QBO write needs a requestid (API.md §2.7)")
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

        The temporary URL is fetched without our bearer token and only from Intuit's hosts or
        S3 over https, or from the configured API origin itself (the sandbox is plain http on
        loopback), so a forged answer cannot send us elsewhere. Redirects are followed by hand,
        at most `MAX_DOWNLOAD_REDIRECTS`, each hop checked the same way.
        """
        text = self.request(
            "GET",
            f"download/{attachable_id}",
            accept="text/plain",
            what="Downloading an attachment",
        )
        url = str(text).strip()
        for _ in range(MAX_DOWNLOAD_REDIRECTS + 1):
            self._check_download_url(url)
            try:
                resp = self.http.get(url, timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as exc:
                raise NetworkError(
                    "Could not fetch the attachment from QuickBooks.",
                    fix="Nothing to do; it is retried automatically.",
                    qbo_message=type(exc).__name__,
                ) from None
            if resp.status_code not in _REDIRECT_STATUSES:
                break
            url = urljoin(url, resp.headers.get("Location", ""))
            resp.close()
        else:
            raise QboRejected(
                "QuickBooks' download address redirected too many times.",
                fix="Show this to support.",
                qbo_message=f"more than {MAX_DOWNLOAD_REDIRECTS} redirects",
            )
        if resp.status_code != 200:
            raise error_from_response(resp.status_code, None, what="Downloading an attachment")
        return resp.content

    def _check_download_url(self, url: str) -> None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not (self._is_api_origin(parts) or self._is_trusted_elsewhere(parts)):
            raise QboRejected(
                "QuickBooks gave a download address costbridge does not trust.",
                fix="Show this to support.",
                qbo_message=f"{parts.scheme}://{host}",
            )

    def _is_api_origin(self, parts: SplitResult) -> bool:
        """Same scheme, host and port as the configured API base (the sandbox's own links)."""
        base = urlsplit(self.base_url)
        try:
            return bool(parts.hostname) and (
                parts.scheme,
                parts.hostname,
                _port(parts),
            ) == (base.scheme, base.hostname, _port(base))
        except ValueError:
            return False

    @staticmethod
    def _is_trusted_elsewhere(parts: SplitResult) -> bool:
        """Intuit or S3, over https on the default port, with no credentials in the URL."""
        try:
            port = parts.port
        except ValueError:
            return False
        return (
            parts.scheme == "https"
            and port in (None, 443)
            and parts.username is None
            and _ALLOWED_DOWNLOAD_HOST.fullmatch((parts.hostname or "").lower()) is not None
        )


def _port(parts: SplitResult) -> int | None:
    """The URL's port, with the scheme's default filled in (raises ValueError when malformed)."""
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
