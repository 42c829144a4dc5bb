"""Storing what Intuit granted on a company row, and forgetting it (the caller commits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from core.crypto import TokenVault
from core.db import utcnow
from core.models.company import Company
from core.models.company import ConnectionStatus


def store_grant(
    company: Company, token: Mapping[str, Any], vault: TokenVault, *, realm_id: str | None = None
) -> None:
    """Write a token endpoint answer onto the company (encrypted) and bump `token_version`.

    Used after the code exchange (with `realm_id`) and after every refresh. The caller commits.

    Args:
        company: The row to update (locked by the caller when refreshing).
        token: The token endpoint's JSON (`access_token`, `refresh_token`, `expires_in`,
            `x_refresh_token_expires_in`).
        vault: Encrypts the tokens.
        realm_id: Set on connect.
    """
    now = utcnow()
    company.access_token_enc = vault.encrypt(str(token["access_token"]))
    if token.get("refresh_token"):
        company.refresh_token_enc = vault.encrypt(str(token["refresh_token"]))
    company.access_expires_at = now + dt.timedelta(seconds=int(token.get("expires_in") or 3600))
    refresh_left = token.get("x_refresh_token_expires_in")
    if refresh_left:
        company.refresh_expires_at = now + dt.timedelta(seconds=int(refresh_left))
    company.token_version = (company.token_version or 0) + 1
    if realm_id is not None:
        company.realm_id = realm_id
        company.connection_status = ConnectionStatus.CONNECTED
        company.connection_problem = None
        company.connected_at = now


def forget_tokens(company: Company, status: ConnectionStatus, problem: str | None = None) -> None:
    """Drop the company's tokens and set its connection status (the caller commits)."""
    company.access_token_enc = None
    company.refresh_token_enc = None
    company.access_expires_at = None
    company.refresh_expires_at = None
    company.token_version = (company.token_version or 0) + 1
    company.connection_status = status
    company.connection_problem = problem
