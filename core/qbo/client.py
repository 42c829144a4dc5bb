"""`QboClient`: one realm's QBO Accounting API v3, called safely.

The client is assembled from one module per idea, and this one adds the single-record calls:

- `core.qbo.transport`: `QboTransport.request`, the one way out: `minorversion`, `requestid`,
  the shared throttle, 5xx/429/401 handling, Decimal-exact JSON (`dumps`, `loads`).
- `core.qbo.bulk`: query paging, counts, CDC (`CdcResult`) and batch (`BatchResult`).
- `core.qbo.attachments`: upload and download of Attachable files.
- here: read, create, update, delete and CompanyInfo, and wiring from a runtime.

Every name callers imported from this module before the split is still importable from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from core.qbo.attachments import AttachmentCalls
from core.qbo.bulk import MAX_BATCH_ITEMS
from core.qbo.bulk import BatchResult
from core.qbo.bulk import BulkCalls
from core.qbo.bulk import CdcResult
from core.qbo.errors import QboRejected
from core.qbo.throttle import RealmThrottle
from core.qbo.transport import DEFAULT_THROTTLE_WAIT
from core.qbo.transport import TIMEOUT
from core.qbo.transport import dumps
from core.qbo.transport import loads

if TYPE_CHECKING:
    from core.runtime import Runtime

__all__ = [
    "DEFAULT_THROTTLE_WAIT",
    "MAX_BATCH_ITEMS",
    "TIMEOUT",
    "BatchResult",
    "CdcResult",
    "QboClient",
    "dumps",
    "loads",
]


class QboClient(BulkCalls, AttachmentCalls):
    """The QBO Accounting API for one realm.

    Takes the arguments of `QboTransport` (realm, token manager, `base_url`, throttle, retry
    and timeout settings); nothing is sent until a call.
    """

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

    def create(self, entity: str, body: Mapping[str, Any], *, request_id: str) -> dict[str, Any]:
        """Create a record; `request_id` names the logical write, reused verbatim on retries."""
        return self._write(entity, body, request_id, f"Creating a {entity}")

    def update(
        self,
        entity: str,
        body: Mapping[str, Any],
        *,
        sparse: bool = False,
        request_id: str,
    ) -> dict[str, Any]:
        """Update a record (full, or sparse); the body carries `Id` and `SyncToken`.

        Raises:
            StaleObject: The SyncToken is not the current one (5010).
        """
        payload = {**body, "sparse": True} if sparse else body
        return self._write(entity, payload, request_id, f"Updating a {entity}")

    def delete(
        self, entity: str, entity_id: str, sync_token: str, *, request_id: str
    ) -> dict[str, Any]:
        """Delete a transaction or Attachable; returns the deleted stub."""
        body = {"Id": str(entity_id), "SyncToken": str(sync_token)}
        return self._write(
            entity, body, request_id, f"Deleting a {entity}", params={"operation": "delete"}
        )

    def _write(
        self,
        entity: str,
        body: Mapping[str, Any],
        request_id: str,
        what: str,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST one write to the entity's endpoint (with a requestid) and unwrap the answer."""
        if not request_id:
            raise ValueError("every QBO write needs a requestid (API.md §2.7)")
        answer = self.request(
            "POST",
            _path(entity),
            params=params,
            json_body=body,
            write=True,
            request_id=request_id,
            what=what,
        )
        return _unwrap(answer, entity)

    def company_info(self) -> dict[str, Any]:
        """The realm's CompanyInfo (validates the connection, names the company)."""
        body = self.request("GET", f"companyinfo/{self.realm_id}", what="Reading company info")
        return _unwrap(body, "CompanyInfo")


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
