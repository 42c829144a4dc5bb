"""Intuit's OAuth 2.0 server, emulated on Intuit's own paths (API.md §8, §12 item 10, §13).

Intuit spreads its endpoints over several hosts; the sandbox serves them all from its one base
URL, keeping each path, so a real OAuth client only needs its base URLs changed (or, better,
reads them from the discovery document, which points at the sandbox itself):

=========================  ================================================  =========
purpose                    Intuit                                            sandbox
=========================  ================================================  =========
discovery (sandbox/prod)   developer.api.intuit.com/.well-known/openid_...   same path
authorize                  appcenter.intuit.com/connect/oauth2               same path
token                      oauth.platform.intuit.com/oauth2/v1/tokens/bearer same path
revoke                     developer.api.intuit.com/v2/oauth2/tokens/revoke  same path
userinfo                   ...accounts.platform.intuit.com/v1/openid_connect/userinfo
jwks                       oauth.platform.intuit.com/op/v1/jwks              same path
=========================  ================================================  =========

Tokens are random opaque strings. Every token belongs to a *grant*: the consent given by one
authorization code for one client and company. Refresh tokens rotate on every use and the
previous value dies at once (the strict reading of Intuit's conflicting rotation statements,
RELIABILITY.md §2). A second use of an authorization code is refused and revokes the grant
issued from it, as Intuit does ("using an auth code twice poisons the grant").
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from html import escape
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import unquote
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import jsonify
from flask import redirect
from flask import request
from werkzeug.wrappers import Response

from sandbox import faults
from sandbox.chaos import ConnectionDropped
from sandbox.chaos import InjectedOAuthError
from sandbox.config import OAuthClient

if TYPE_CHECKING:
    from sandbox.state import Sandbox

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"

AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL path, not a secret
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"
ISSUER_PATH = "/op/v1"
DISCOVERY_PATHS = (
    "/.well-known/openid_sandbox_configuration",
    "/.well-known/openid_configuration",
)

# Refresh tokens issued since 2025 also stop 5 years after the first consent, whatever their
# rolling window says (API.md §8.3; RELIABILITY.md §2).
HARD_REFRESH_LIFETIME = timedelta(days=5 * 365)

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


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


class OAuthServer:
    """Intuit's authorization server plus the token store the API authenticates against.

    Thread-safe: one lock guards the store, which also serialises concurrent refreshes of one
    token so exactly one of them wins (the race API.md §8.3 warns clients about).

    Args:
        sb: The sandbox: its config lists the OAuth clients and lifetimes, its clock decides
            expiry, its realms are what a user can connect.
    """

    def __init__(self, sb: Sandbox) -> None:
        self._sb = sb
        self._lock = threading.Lock()
        self._realm_lock = threading.Lock()
        self._codes: dict[str, _AuthCode] = {}
        self._grants: dict[str, _Grant] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._access: dict[str, _AccessToken] = {}
        self._stats: Counter[str] = Counter()
        self.blueprint = self._make_blueprint()

    # -- public API used by the pipeline and the control routes -----------------------------

    def authenticate(self, authorization_header: str | None, realm_id: str) -> None:
        """Check the bearer token of a ``/v3/company/<realm_id>/...`` request.

        Args:
            authorization_header: The request's ``Authorization`` header, if any.
            realm_id: The company in the URL.

        Raises:
            QboFault: 401 code 3200 (samples/fault.auth.json) when the token is missing,
                unknown, expired, revoked, or was issued for another company.
        """
        detail = self._check_bearer(authorization_header, realm_id)
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

    # -- token store internals (callers hold self._lock) -------------------------------------

    def _check_bearer(self, header: str | None, realm_id: str) -> str | None:
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

    def _client(self, client_id: str | None) -> OAuthClient | None:
        for client in self._sb.config.oauth_clients:
            if client.client_id == client_id:
                return client
        return None

    def _authenticate_client(self) -> OAuthClient:
        """Identify the calling app by HTTP Basic or by client_secret_post form fields.

        Raises:
            OAuthError: 401 ``invalid_client``.
        """
        header = request.headers.get("Authorization", "")
        basic = header[:6].lower() == "basic "
        if basic:
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            client_id, _, secret = decoded.partition(":")
        else:
            form = _form()
            client_id = form.get("client_id", "")
            secret = form.get("client_secret", "")
        client = self._client(client_id) or self._client(unquote(client_id))
        # RFC 6749 §2.3.1 form-encodes id and secret inside Basic; most clients (authlib,
        # Intuit's SDKs) do not. Accept either spelling.
        if client is not None and (
            hmac.compare_digest(secret.encode(), client.secret.encode())
            or hmac.compare_digest(unquote(secret).encode(), client.secret.encode())
        ):
            return client
        headers = {"WWW-Authenticate": 'Basic realm="Intuit"'} if basic else {}
        raise OAuthError("invalid_client", 401, headers=headers)

    def _redirect_allowed(self, client: OAuthClient, uri: str) -> bool:
        if client.redirect_uris is not None:
            return uri in client.redirect_uris
        try:
            parts = urlsplit(uri)
        except ValueError:
            return False
        return (
            parts.scheme in ("http", "https")
            and (parts.hostname or "").lower() in _LOOPBACK_HOSTS
            and not parts.fragment
            and not parts.username
        )

    def _pick_realm(self, hint: str | None) -> str:
        """Choose the company the user "connects" on the consent screen.

        ``realm_hint`` (a sandbox extension) names it; else ``SandboxConfig.oauth_realm_id``
        when the config has one; else the first company in the sandbox. A named company that
        does not exist, or the first one when there is none, is created like the server's
        "empty" seed (CompanyInfo, Preferences, a minimal chart of accounts): a real user
        always has a company to pick.
        """
        from sandbox.seed import seed_empty  # seed imports state, which imports this module

        sb = self._sb
        wanted = hint or getattr(sb.config, "oauth_realm_id", None)
        # Serialised so two consents racing on an empty sandbox create one company, not two.
        with self._realm_lock:
            if wanted:
                if not sb.has_realm(str(wanted)):
                    seed_empty(sb, str(wanted))
                return str(wanted)
            realms = sb.realms()
            if realms:
                return realms[0].id
            return seed_empty(sb).id

    # -- HTTP ------------------------------------------------------------------------------------

    def _make_blueprint(self) -> Blueprint:
        bp = Blueprint("sandbox_oauth", __name__)

        @bp.errorhandler(OAuthError)
        def _oauth_error(exc: OAuthError) -> Response:
            body: dict[str, str] = {"error": exc.error}
            if exc.description:
                body["error_description"] = exc.description
            with self._lock:
                self._stats[f"error:{exc.error}"] += 1
            return _json(body, exc.status, exc.headers)

        @bp.errorhandler(InjectedOAuthError)
        def _injected(exc: InjectedOAuthError) -> Response:
            return _json(exc.body, exc.status, exc.headers)

        @bp.errorhandler(ConnectionDropped)
        def _dropped(exc: ConnectionDropped) -> Response:
            del exc
            return Response(b"", status=500)  # the socket is closed; nobody reads this

        for path in DISCOVERY_PATHS:
            # Intuit's own OAuth client asks with a trailing slash; both spellings answer.
            name = f"discovery_{path.rsplit('/', 1)[1]}"
            bp.add_url_rule(path, name, self._discovery, strict_slashes=False)
        bp.add_url_rule(AUTHORIZE_PATH, "authorize", self._authorize, methods=["GET"])
        bp.add_url_rule(TOKEN_PATH, "token", self._token, methods=["POST"])
        bp.add_url_rule(REVOKE_PATH, "revoke", self._revoke, methods=["POST"])
        bp.add_url_rule(USERINFO_PATH, "userinfo", self._userinfo, methods=["GET"])
        bp.add_url_rule(JWKS_PATH, "jwks", self._jwks, methods=["GET"])
        return bp

    def _discovery(self) -> Response:
        # Built from the Host the client used, so the document is right whatever port or name
        # the sandbox is reached by. Everything else follows samples/oauth.discovery.sandbox.json.
        base = request.host_url.rstrip("/")
        return _json(
            {
                "issuer": base + ISSUER_PATH,
                "authorization_endpoint": base + AUTHORIZE_PATH,
                "token_endpoint": base + TOKEN_PATH,
                "userinfo_endpoint": base + USERINFO_PATH,
                "revocation_endpoint": base + REVOKE_PATH,
                "jwks_uri": base + JWKS_PATH,
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile", "address", "phone"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
            }
        )

    def _authorize(self) -> Response:
        args = request.args
        with self._lock:
            self._stats["authorize:calls"] += 1
        client = self._client(args.get("client_id"))
        if client is None:
            return self._error_page("invalid_client", "Unknown client_id.")
        redirect_uri = args.get("redirect_uri", "")
        # A redirect URI that is not registered gets an error page, never a redirect to it:
        # bouncing the user to an arbitrary URL is an open redirector (RFC 6749 §4.1.2.1).
        if not redirect_uri or not self._redirect_allowed(client, redirect_uri):
            return self._error_page("invalid_request", "redirect_uri is not registered.")
        state = args.get("state")
        if args.get("response_type") != "code":
            return self._refuse(redirect_uri, state, "unsupported_response_type")
        scopes = args.get("scope", "").split()
        if ACCOUNTING_SCOPE not in scopes:
            return self._refuse(redirect_uri, state, "invalid_scope")
        hint = args.get("realm_hint")
        if hint is not None and not hint.isdigit():
            return self._error_page("invalid_request", "realm_hint must be digits.")
        realm_id = self._pick_realm(hint)
        code = "AB11" + secrets.token_urlsafe(32)
        now = self._sb.clock.now()
        with self._lock:
            self._codes[code] = _AuthCode(
                client.client_id,
                redirect_uri,
                realm_id,
                " ".join(scopes),
                now + timedelta(seconds=self._sb.config.auth_code_ttl),
            )
            self._stats["codes_issued"] += 1
            self._stats["authorize:approved"] += 1
        params = {"code": code}
        if state is not None:
            params["state"] = state
        params["realmId"] = realm_id
        return redirect(_add_query(redirect_uri, params), code=302)

    def _refuse(self, redirect_uri: str, state: str | None, error: str) -> Response:
        with self._lock:
            self._stats["authorize:refused"] += 1
        params = {"error": error}
        if state is not None:
            params["state"] = state
        return redirect(_add_query(redirect_uri, params), code=302)

    def _error_page(self, error: str, message: str) -> Response:
        with self._lock:
            self._stats["authorize:refused"] += 1
        html = (
            "<!doctype html><title>Intuit sandbox: authorization error</title>"
            f"<h1>Authorization error</h1><p><code>{escape(error)}</code>: {escape(message)}</p>"
        )
        return Response(html, status=400, mimetype="text/html")

    def _token(self) -> Response:
        self._sb.chaos.before_token_request(request.path)
        client = self._authenticate_client()
        form = _form()
        grant_type = form.get("grant_type", "")
        with self._lock:
            self._stats[f"grant:{grant_type or 'missing'}"] += 1
        if grant_type == "authorization_code":
            body = self._exchange_code(client, form)
        elif grant_type == "refresh_token":
            body = self._refresh_grant(client, form)
        elif not grant_type:
            raise OAuthError("invalid_request", description="grant_type is required")
        else:
            raise OAuthError("unsupported_grant_type")
        resp = _json(body, 200)
        # RFC 6749 §5.1: token responses must not be cached.
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Pragma"] = "no-cache"
        return resp

    def _exchange_code(self, client: OAuthClient, form: dict[str, str]) -> dict[str, Any]:
        code = form.get("code", "")
        if not code:
            raise OAuthError("invalid_request", description="code is required")
        now = self._sb.clock.now()
        with self._lock:
            entry = self._codes.get(code)
            if entry is None or entry.client_id != client.client_id:
                raise OAuthError("invalid_grant")
            if entry.grant_id is not None:
                # Second use of a code: refuse it and kill what the first use produced.
                grant = self._grants.get(entry.grant_id)
                if grant is not None:
                    self._revoke_grant(grant)
                raise OAuthError("invalid_grant")
            if entry.expires_at <= now:
                raise OAuthError("invalid_grant")
            if form.get("redirect_uri", "") != entry.redirect_uri:
                raise OAuthError("invalid_grant")
            grant = _Grant(
                id=uuid.uuid4().hex,
                client_id=client.client_id,
                realm_id=entry.realm_id,
                scope=entry.scope,
                hard_expires_at=now + HARD_REFRESH_LIFETIME,
            )
            self._grants[grant.id] = grant
            entry.grant_id = grant.id
            return self._issue(grant, now)

    def _refresh_grant(self, client: OAuthClient, form: dict[str, str]) -> dict[str, Any]:
        value = form.get("refresh_token", "")
        if not value:
            raise OAuthError("invalid_request", description="refresh_token is required")
        now = self._sb.clock.now()
        with self._lock:
            tok = self._refresh.get(value)
            if tok is None or tok.state != "active" or tok.expires_at <= now:
                raise OAuthError("invalid_grant")
            grant = self._grants[tok.grant_id]
            if grant.revoked or grant.client_id != client.client_id:
                raise OAuthError("invalid_grant")
            # Rotation: the presented token is dead from now on; access tokens already issued
            # keep working until they expire, as Intuit's do.
            tok.state = "rotated"
            return self._issue(grant, now)

    def _revoke(self) -> Response:
        client = self._authenticate_client()
        with self._lock:
            self._stats["revoke_calls"] += 1
        # Intuit documents a JSON body {"token": ...}; RFC 7009 clients (authlib) send a form.
        data = request.get_json(silent=True) if request.is_json else None
        token = (data or {}).get("token") if isinstance(data, dict) else None
        if token is None:
            token = _form().get("token")
        if not token or not isinstance(token, str):
            raise OAuthError("invalid_request", description="token is required")
        with self._lock:
            grant_id = None
            if token in self._refresh:
                grant_id = self._refresh[token].grant_id
            elif token in self._access:
                grant_id = self._access[token].grant_id
            grant = self._grants.get(grant_id) if grant_id else None
            if grant is not None:
                if grant.client_id != client.client_id:
                    raise OAuthError("unauthorized_client")
                self._revoke_grant(grant)
        # RFC 7009 §2.2: unknown or already revoked tokens also get 200. Intuit answers 200 with
        # an empty body (API.md §8.5, §13).
        return Response(b"", status=200)

    def _userinfo(self) -> Response:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        now = self._sb.clock.now()
        with self._lock:
            tok = self._access.get(value.strip()) if scheme.lower() == "bearer" else None
            realm_id = None
            if tok is not None and not tok.revoked and tok.expires_at > now:
                realm_id = tok.realm_id
        if realm_id is None:
            return _json(
                {"error": "invalid_token"},
                401,
                {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'},
            )
        # Field names as Intuit's userinfo answers them (camelCase); the person is made up.
        sub = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-user:{realm_id}"))
        return _json(
            {
                "sub": sub,
                "email": "sandbox.user@example.com",
                "emailVerified": True,
                "givenName": "Sandbox",
                "familyName": "User",
                "realmid": realm_id,
            }
        )

    def _jwks(self) -> Response:
        # No id_token is ever issued, so there is no signing key to publish; an empty key set
        # is still a valid JWKS document for clients that fetch it eagerly.
        return _json({"keys": []})


def _form() -> dict[str, str]:
    """Form fields of the request, also when a client forgot the form Content-Type."""
    if request.form:
        return {k: v for k, v in request.form.items()}
    raw = request.get_data(cache=True, as_text=True)
    if raw and "=" in raw and not raw.lstrip().startswith("{"):
        return dict(parse_qsl(raw, keep_blank_values=True))
    data = request.get_json(silent=True) if raw.lstrip().startswith("{") else None
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items() if v is not None}
    return {}


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _add_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
