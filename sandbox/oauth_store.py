"""The sandbox's OAuth store: authorization codes, grants, refresh and access tokens.

Tokens are random opaque strings. Every token belongs to a *grant*: the consent given by one
authorization code for one client and company. Refresh tokens rotate on every use and the
previous value dies at once (the strict reading of Intuit's conflicting rotation statements,
RELIABILITY.md §2). A second use of an authorization code is refused and revokes the grant
issued from it, as Intuit does ("using an auth code twice poisons the grant").

`TokenStore` knows nothing of HTTP: `sandbox.oauth` parses requests, authenticates the calling
app and answers; the API pipeline calls `authenticate` for each ``/v3`` request.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from sandbox import faults

if TYPE_CHECKING:
    from sandbox.state import Sandbox

# Refresh tokens issued since 2025 also stop 5 years after the first consent, whatever their
# rolling window says (API.md §8.3; RELIABILITY.md §2).
HARD_REFRESH_LIFETIME = timedelta(days=5 * 365)


class OAuthError(Exception):
    """An OAuth error answer (RFC 6749 §5.2): JSON ``{"error": ...}`` with a status.

    Args:
        error: The ``error`` code (``invalid_grant``, ``invalid_client``...).
        status: HTTP status; Intuit uses 400 for grant errors (API.md §8.4).
        description: Optional ``error_description``.
        headers: Extra headers (``WWW-Authenticate`` for a failed Basic login).
    """

    def __init__(
        self,
        error: str,
        status: int = 400,
        description: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description
        self.headers = dict(headers or {})


@dataclass
class _Grant:
    id: str
    client_id: str
    realm_id: str
    scope: str
    hard_expires_at: datetime
    revoked: bool = False


@dataclass
class _AuthCode:
    client_id: str
    redirect_uri: str
    realm_id: str
    scope: str
    expires_at: datetime
    grant_id: str | None = None  # set once exchanged; a second use revokes this grant


@dataclass
class _RefreshToken:
    grant_id: str
    expires_at: datetime
    state: str = "active"  # active | rotated | revoked


@dataclass
class _AccessToken:
    grant_id: str
    realm_id: str
    expires_at: datetime
    revoked: bool = False


class TokenStore:
    """Codes, grants and tokens, with the counts the control API reports.

    Thread-safe: one lock guards the store, which also serialises concurrent refreshes of one
    token so exactly one of them wins (the race API.md §8.3 warns clients about).

    Args:
        sb: The sandbox: its config lists the OAuth clients and lifetimes, its clock decides
            expiry.
    """

    def __init__(self, sb: Sandbox) -> None:
        self._sb = sb
        self._lock = threading.Lock()
        self._codes: dict[str, _AuthCode] = {}
        self._grants: dict[str, _Grant] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._access: dict[str, _AccessToken] = {}
        self._stats: Counter[str] = Counter()

    def count(self, key: str) -> None:
        """Add one to a named count (``authorize:calls``, ``error:invalid_grant``...)."""
        with self._lock:
            self._stats[key] += 1

    def authenticate(self, authorization_header: str | None, realm_id: str) -> None:
        """Check the bearer token of a ``/v3/company/<realm_id>/...`` request.

        Args:
            authorization_header: The request's ``Authorization`` header, if any.
            realm_id: The company in the URL.

        Raises:
            QboFault: 401 code 3200 (samples/fault.auth.json) when the token is missing,
                unknown, expired, revoked, or was issued for another company.
        """
        detail = self._bearer_problem(authorization_header, realm_id)
        with self._lock:
            self._stats["auth:failed" if detail else "auth:ok"] += 1
        if detail:
            fault = faults.auth_failure(detail)
            # RFC 6750 §3: a 401 for a bearer-protected resource names the scheme.
            fault.headers["WWW-Authenticate"] = 'Bearer realm="Intuit", error="invalid_token"'
            raise fault

    def expire_access_tokens(self, realm_id: str | None = None) -> int:
        """Make live access tokens expire now (all, or one company's).

        The next API call with one gets the 401 a client sees after an hour; refresh tokens
        are untouched, so the client can recover by refreshing.

        Returns:
            How many tokens were expired.
        """
        now = self._sb.clock.now()
        n = 0
        with self._lock:
            for tok in self._access.values():
                if realm_id is not None and tok.realm_id != str(realm_id):
                    continue
                if not tok.revoked and tok.expires_at > now:
                    tok.expires_at = now
                    n += 1
        return n

    def revoke_refresh_tokens(
        self, realm_id: str | None = None, include_access_tokens: bool = True
    ) -> int:
        """Revoke every live refresh token (all, or one company's): the user disconnected the app.

        Args:
            realm_id: Only this company's grants.
            include_access_tokens: Also revoke the grants' access tokens, as Intuit does on a
                disconnect; False leaves them working until they expire.

        Returns:
            How many refresh tokens were revoked.
        """
        n = 0
        with self._lock:
            for grant in self._grants.values():
                if realm_id is not None and grant.realm_id != str(realm_id):
                    continue
                n += self._revoke_grant(grant, include_access_tokens)
        return n

    def reset(self) -> None:
        """Forget every code, grant and token and zero the counts."""
        with self._lock:
            self._codes.clear()
            self._grants.clear()
            self._refresh.clear()
            self._access.clear()
            self._stats.clear()

    def state(self) -> dict[str, Any]:
        """Return counts for tests and the control API (never a token value).

        Returns:
            Clients, calls per endpoint and grant type, errors by kind, and tokens issued and
            active, overall and per company.
        """
        now = self._sb.clock.now()
        with self._lock:
            access_active = [
                t for t in self._access.values() if not t.revoked and t.expires_at > now
            ]
            refresh_active = [
                t for t in self._refresh.values() if t.state == "active" and t.expires_at > now
            ]
            realms: dict[str, dict[str, int]] = {}
            for at in access_active:
                realms.setdefault(at.realm_id, {"access_active": 0, "refresh_active": 0})
                realms[at.realm_id]["access_active"] += 1
            for rt in refresh_active:
                realm = self._grants[rt.grant_id].realm_id
                realms.setdefault(realm, {"access_active": 0, "refresh_active": 0})
                realms[realm]["refresh_active"] += 1
            s = self._stats
            return {
                "clients": [c.client_id for c in self._sb.config.oauth_clients],
                "authorize": {
                    "calls": s["authorize:calls"],
                    "approved": s["authorize:approved"],
                    "refused": s["authorize:refused"],
                },
                "codes_issued": s["codes_issued"],
                "grants": len(self._grants),
                "access_tokens": {
                    "issued": s["access_issued"],
                    "active": len(access_active),
                    "revoked": sum(1 for t in self._access.values() if t.revoked),
                },
                "refresh_tokens": {
                    "issued": s["refresh_issued"],
                    "active": len(refresh_active),
                    "rotated": sum(1 for t in self._refresh.values() if t.state == "rotated"),
                    "revoked": sum(1 for t in self._refresh.values() if t.state == "revoked"),
                },
                "token_calls": {
                    key.split(":", 1)[1]: n for key, n in s.items() if key.startswith("grant:")
                },
                "token_errors": {
                    key.split(":", 1)[1]: n for key, n in s.items() if key.startswith("error:")
                },
                "invalid_grant": s["error:invalid_grant"],
                "revoke_calls": s["revoke_calls"],
                "authenticate": {"ok": s["auth:ok"], "failed": s["auth:failed"]},
                "realms": realms,
            }

    # -- what the token endpoint does ----------------------------------------------------------

    def issue_code(self, client_id: str, redirect_uri: str, realm_id: str, scope: str) -> str:
        """Record an approved consent and return its authorization code."""
        code = "AB11" + secrets.token_urlsafe(32)
        now = self._sb.clock.now()
        with self._lock:
            self._codes[code] = _AuthCode(
                client_id,
                redirect_uri,
                realm_id,
                scope,
                now + timedelta(seconds=self._sb.config.auth_code_ttl),
            )
            self._stats["codes_issued"] += 1
            self._stats["authorize:approved"] += 1
        return code

    def exchange_code(self, client_id: str, code: str, redirect_uri: str) -> dict[str, Any]:
        """Turn an authorization code into a new grant's first tokens.

        Raises:
            OAuthError: ``invalid_grant`` for an unknown, expired, reused or mismatched code; a
                reused code also revokes the grant its first use created.
        """
        now = self._sb.clock.now()
        with self._lock:
            entry = self._codes.get(code)
            if entry is None or entry.client_id != client_id:
                raise OAuthError("invalid_grant")
            if entry.grant_id is not None:
                # Second use of a code: refuse it and kill what the first use produced.
                grant = self._grants.get(entry.grant_id)
                if grant is not None:
                    self._revoke_grant(grant)
                raise OAuthError("invalid_grant")
            if entry.expires_at <= now:
                raise OAuthError("invalid_grant")
            if redirect_uri != entry.redirect_uri:
                raise OAuthError("invalid_grant")
            grant = _Grant(
                id=uuid.uuid4().hex,
                client_id=client_id,
                realm_id=entry.realm_id,
                scope=entry.scope,
                hard_expires_at=now + HARD_REFRESH_LIFETIME,
            )
            self._grants[grant.id] = grant
            entry.grant_id = grant.id
            return self._issue(grant, now)

    def scope_of(self, access_token: str) -> str:
        """The scope granted with ``access_token`` ("" when unknown)."""
        with self._lock:
            entry = self._access.get(access_token)
            grant = self._grants.get(entry.grant_id) if entry is not None else None
            return grant.scope if grant is not None else ""

    def refresh(self, client_id: str, value: str) -> dict[str, Any]:
        """Rotate a refresh token: the presented one dies, a new pair is issued.

        Raises:
            OAuthError: ``invalid_grant`` when the token is unknown, used, expired or revoked,
                or belongs to another client.
        """
        now = self._sb.clock.now()
        with self._lock:
            tok = self._refresh.get(value)
            if tok is None or tok.state != "active" or tok.expires_at <= now:
                raise OAuthError("invalid_grant")
            grant = self._grants[tok.grant_id]
            if grant.revoked or grant.client_id != client_id:
                raise OAuthError("invalid_grant")
            # Rotation: the presented token is dead from now on; access tokens already issued
            # keep working until they expire, as Intuit's do.
            tok.state = "rotated"
            return self._issue(grant, now)

    def revoke_token(self, client_id: str, token: str) -> None:
        """Revoke at the revocation endpoint; unknown tokens are ignored (RFC 7009 §2.2).

        A refresh token disconnects the app from the company (API.md §8.5): every grant this
        client holds for that realm dies, not only the one the token came from. An access
        token revokes its own grant.

        Raises:
            OAuthError: ``unauthorized_client`` when the grant is another client's.
        """
        with self._lock:
            by_refresh = token in self._refresh
            grant_id = None
            if by_refresh:
                grant_id = self._refresh[token].grant_id
            elif token in self._access:
                grant_id = self._access[token].grant_id
            grant = self._grants.get(grant_id) if grant_id else None
            if grant is None:
                return
            if grant.client_id != client_id:
                raise OAuthError("unauthorized_client")
            if not by_refresh:
                self._revoke_grant(grant)
                return
            for other in self._grants.values():
                if other.client_id == client_id and other.realm_id == grant.realm_id:
                    self._revoke_grant(other)

    def live_access_realm(self, value: str) -> str | None:
        """The company of a live access token, or None when it is unknown, revoked or expired."""
        now = self._sb.clock.now()
        with self._lock:
            tok = self._access.get(value)
            if tok is not None and not tok.revoked and tok.expires_at > now:
                return tok.realm_id
        return None

    # -- internals (_revoke_grant and _issue: callers hold self._lock) -------------------------

    def _bearer_problem(self, header: str | None, realm_id: str) -> str | None:
        """Return why the bearer token is refused, or None when it is good."""
        if not header:
            return "Token missing: no Authorization header"
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            return "Token invalid: expected a Bearer token"
        now = self._sb.clock.now()
        with self._lock:
            tok = self._access.get(value)
            if tok is None:
                return "Token invalid"
            if tok.revoked:
                return "Token revoked"
            if tok.expires_at <= now:
                # Intuit quotes the start of the token; never the whole of it.
                return f"Token expired: {value[:8]}..."
            if tok.realm_id != str(realm_id):
                return "Token invalid: issued for another company"
        return None

    def _revoke_grant(self, grant: _Grant, include_access_tokens: bool = True) -> int:
        grant.revoked = True
        n = 0
        for rt in self._refresh.values():
            if rt.grant_id == grant.id and rt.state == "active":
                rt.state = "revoked"
                n += 1
        if include_access_tokens:
            for at in self._access.values():
                if at.grant_id == grant.id:
                    at.revoked = True
        return n

    def _issue(self, grant: _Grant, now: datetime) -> dict[str, Any]:
        cfg = self._sb.config
        access = secrets.token_urlsafe(48)
        self._access[access] = _AccessToken(
            grant.id, grant.realm_id, now + timedelta(seconds=cfg.access_token_ttl)
        )
        # Intuit's refresh tokens start "AB11"; keep the look so logs read the same.
        refresh = "AB11" + secrets.token_urlsafe(36)
        expires = min(now + timedelta(seconds=cfg.refresh_token_ttl), grant.hard_expires_at)
        self._refresh[refresh] = _RefreshToken(grant.id, expires)
        self._stats["access_issued"] += 1
        self._stats["refresh_issued"] += 1
        # Exactly the keys of samples/oauth.token.response.json (no scope, no id_token).
        return {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": cfg.access_token_ttl,
            "refresh_token": refresh,
            "x_refresh_token_expires_in": max(0, int((expires - now).total_seconds())),
        }
