"""The QuickBooks Online client: tokens, throttling, typed Faults and queries.

Most callers need only `client_for(runtime, realm_id)`; the OAuth connect flow lives in
`core.web.oauth`, the webhook receiver in `core.web.webhooks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.crypto import TokenVault
from core.qbo.client import QboClient
from core.qbo.custody import TokenManager
from core.qbo.oauth_config import OAuthConfig

if TYPE_CHECKING:
    from core.runtime import Runtime

__all__ = ["QboClient", "client_for", "token_manager", "vault_for"]


def vault_for(runtime: Runtime) -> TokenVault:
    """The token vault for a runtime's configured keys."""
    return TokenVault(runtime.settings.token_keys)


def token_manager(runtime: Runtime) -> TokenManager:
    """A new TokenManager wired from the runtime (use `runtime.qbo_tokens` to share one)."""
    return TokenManager(
        runtime.sessions,
        runtime.redis,
        vault_for(runtime),
        OAuthConfig.from_settings(runtime.settings),
    )


def client_for(runtime: Runtime, realm_id: str, **kwargs: object) -> QboClient:
    """A throttled client for one realm, wired from the runtime (what jobs use)."""
    return QboClient.for_runtime(runtime, realm_id, **kwargs)
