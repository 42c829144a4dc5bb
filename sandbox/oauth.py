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

The codes, grants and tokens themselves, and their rotation and revocation rules, are kept by
`sandbox.oauth_store.TokenStore`; this module is the HTTP side: it parses requests,
authenticates the calling app, checks redirect URIs, picks the company a user connects, and
answers in Intuit's shapes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import uuid
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

from sandbox.chaos import ConnectionDropped
from sandbox.chaos import InjectedOAuthError
from sandbox.config import OAuthClient
from sandbox.oauth_keys import SigningKey
from sandbox.oauth_store import HARD_REFRESH_LIFETIME
from sandbox.oauth_store import OAuthError
from sandbox.oauth_store import TokenStore

if TYPE_CHECKING:
    from sandbox.state import Sandbox

__all__ = [
    "ACCOUNTING_SCOPE",
    "AUTHORIZE_PATH",
    "DISCOVERY_PATHS",
    "HARD_REFRESH_LIFETIME",
    "ISSUER_PATH",
    "JWKS_PATH",
    "REVOKE_PATH",
    "TOKEN_PATH",
    "USERINFO_PATH",
    "OAuthError",
    "OAuthServer",
    "TokenStore",
]

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

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


class OAuthServer:
    """Intuit's authorization server: its HTTP endpoints over the token store the API checks.

    Args:
        sb: The sandbox: its config lists the OAuth clients and lifetimes, its clock decides
            expiry, its realms are what a user can connect.
    """

    def __init__(self, sb: Sandbox) -> None:
        self._sb = sb
        self.store = TokenStore(sb)
        self.signing_key = SigningKey()
        self._realm_lock = threading.Lock()
        # Redirect URIs registered at run time (the developer portal's list), per client id.
        # App registration, not company data: kept across ``reset``.
        self._redirect_uris: dict[str, set[str]] = {}
        self.blueprint = self._make_blueprint()

    def register_redirect_uri(self, client_id: str, uri: str) -> None:
        """Register one more redirect URI for a configured client (matched exactly).

        Raises:
            ValueError: No such client, or the URI is not an absolute http(s) URL.
        """
        if self._client(client_id) is None:
            raise ValueError(f"no OAuth client {client_id!r} is configured")
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise ValueError("a redirect URI is an absolute http(s) URL without a fragment")
        with self._realm_lock:
            self._redirect_uris.setdefault(client_id, set()).add(uri)

    def redirect_uris(self, client_id: str) -> list[str]:
        """Every redirect URI registered for ``client_id``, configured or added."""
        client = self._client(client_id)
        configured = client.redirect_uris if client is not None else ()
        with self._realm_lock:
            added = self._redirect_uris.get(client_id, set())
            return sorted({*configured, *added})

    # -- public API used by the pipeline and the control routes (kept by the store) ----------

    def authenticate(self, authorization_header: str | None, realm_id: str) -> None:
        """Check the bearer token of a ``/v3/company/<realm_id>/...`` request.

        Raises:
            QboFault: 401 code 3200; see `TokenStore.authenticate`.
        """
        self.store.authenticate(authorization_header, realm_id)

    def expire_access_tokens(self, realm_id: str | None = None) -> int:
        """Make live access tokens expire now; see `TokenStore.expire_access_tokens`."""
        return self.store.expire_access_tokens(realm_id)

    def revoke_refresh_tokens(
        self, realm_id: str | None = None, include_access_tokens: bool = True
    ) -> int:
        """Revoke live refresh tokens; see `TokenStore.revoke_refresh_tokens`."""
        return self.store.revoke_refresh_tokens(realm_id, include_access_tokens)

    def reset(self) -> None:
        """Forget every code, grant and token and zero the counts."""
        self.store.reset()

    def state(self) -> dict[str, Any]:
        """Return counts for tests and the control API; see `TokenStore.state`."""
        return self.store.state()

    # -- who is asking, and where to send them ---------------------------------------------------

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
        # Intuit: the redirect URI must equal a registered one exactly (API.md §8.2).
        if uri in self.redirect_uris(client.client_id):
            return True
        if not self._sb.config.lenient_redirect_uris:
            return False
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
            self.store.count(f"error:{exc.error}")
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
        self.store.count("authorize:calls")
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
        code = self.store.issue_code(client.client_id, redirect_uri, realm_id, " ".join(scopes))
        params = {"code": code}
        if state is not None:
            params["state"] = state
        params["realmId"] = realm_id
        return redirect(_add_query(redirect_uri, params), code=302)

    def _refuse(self, redirect_uri: str, state: str | None, error: str) -> Response:
        self.store.count("authorize:refused")
        params = {"error": error}
        if state is not None:
            params["state"] = state
        return redirect(_add_query(redirect_uri, params), code=302)

    def _error_page(self, error: str, message: str) -> Response:
        self.store.count("authorize:refused")
        html = (
            "<!doctype html><title>Intuit sandbox: authorization error</title>"
            f"<h1>Authorization error</h1><p><code>{escape(error)}</code>: {escape(message)}</p>"
        )
        return Response(html, status=400, mimetype="text/html")

    def _token(self) -> Response:
        self._sb.chaos.before_token_request(request.path)
        client = self._authenticate_client()
        if request.mimetype != "application/x-www-form-urlencoded":
            # API.md §8.3: Intuit's token endpoint takes form-encoded bodies only.
            raise OAuthError(
                "invalid_request",
                description="Content-Type must be application/x-www-form-urlencoded",
            )
        form = _form()
        grant_type = form.get("grant_type", "")
        self.store.count(f"grant:{grant_type or 'missing'}")
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
        body = self.store.exchange_code(client.client_id, code, form.get("redirect_uri", ""))
        if "openid" in self.store.scope_of(str(body["access_token"])).split():
            # API.md §8.3: `id_token` is added when `openid` was requested; signed with the
            # key published at jwks_uri.
            realm_id = self.store.live_access_realm(str(body["access_token"])) or ""
            body["id_token"] = self.signing_key.id_token(
                issuer=request.host_url.rstrip("/") + ISSUER_PATH,
                client_id=client.client_id,
                subject=str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-user:{realm_id}")),
                realm_id=realm_id,
            )
        return body

    def _refresh_grant(self, client: OAuthClient, form: dict[str, str]) -> dict[str, Any]:
        value = form.get("refresh_token", "")
        if not value:
            raise OAuthError("invalid_request", description="refresh_token is required")
        return self.store.refresh(client.client_id, value)

    def _revoke(self) -> Response:
        client = self._authenticate_client()
        self.store.count("revoke_calls")
        # Intuit documents a JSON body {"token": ...}; RFC 7009 clients (authlib) send a form.
        data = request.get_json(silent=True) if request.is_json else None
        token = (data or {}).get("token") if isinstance(data, dict) else None
        if token is None:
            token = _form().get("token")
        if not token or not isinstance(token, str):
            raise OAuthError("invalid_request", description="token is required")
        self.store.revoke_token(client.client_id, token)
        # RFC 7009 §2.2: unknown or already revoked tokens also get 200. Intuit answers 200 with
        # an empty body (API.md §8.5, §13).
        return Response(b"", status=200)

    def _userinfo(self) -> Response:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        realm_id = (
            self.store.live_access_realm(value.strip()) if scheme.lower() == "bearer" else None
        )
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
        return _json(self.signing_key.jwks())


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
