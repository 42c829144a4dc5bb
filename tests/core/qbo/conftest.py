"""Fixtures for the QBO client tests: one sandbox per session, a connected company per test.

The sandbox and connection fixtures (`qbo_sandbox`, `sandbox_control`, `realm_id`,
`token_manager`, ...) come from the `costbridge_testing` kit.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests

from core.qbo.client import QboClient
from core.qbo.custody import TokenManager
from core.qbo.throttle import Limits
from core.qbo.throttle import RealmThrottle
from core.runtime import Runtime


class RecordingSession(requests.Session):
    """A requests session that notes each request's method, URL, params and timing."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        entry: dict[str, Any] = {
            "method": method,
            "url": url,
            "params": dict(kwargs.get("params") or {}),
            "headers": dict(kwargs.get("headers") or {}),
            "sent": time.monotonic(),
        }
        self.calls.append(entry)
        try:
            resp = super().request(method, url, *args, **kwargs)
        except Exception as exc:
            entry["error"] = type(exc).__name__
            entry["received"] = time.monotonic()
            raise
        entry["status"] = resp.status_code
        entry["received"] = time.monotonic()
        return resp


@pytest.fixture
def http() -> RecordingSession:
    """A recording requests session."""
    return RecordingSession()


@pytest.fixture
def qbo_client(
    qbo_runtime: Runtime, realm_id: str, token_manager: TokenManager, http: RecordingSession
) -> QboClient:
    """A throttled client for the connected realm; backoff sleeps shortened for tests."""
    return QboClient(
        realm_id,
        token_manager,
        base_url=qbo_runtime.settings.qbo_api_base,
        minor_version=qbo_runtime.settings.qbo_minor_version,
        throttle=RealmThrottle(qbo_runtime.redis, Limits.from_settings(qbo_runtime.settings)),
        http=http,
        throttle_wait=0.2,
    )


def ensure_vendor(qbo_client: QboClient, name: str) -> dict[str, Any]:
    """Create a vendor named `name`."""
    return qbo_client.create("Vendor", {"DisplayName": name}, request_id=uuid.uuid4().hex)


def expense_account(qbo_client: QboClient) -> str:
    """The id of some Cost of Goods Sold account in the realm's chart."""
    rows = qbo_client.query(
        "SELECT * FROM Account WHERE AccountType = 'Cost of Goods Sold' MAXRESULTS 1"
    )
    return str(rows["Account"][0]["Id"])
