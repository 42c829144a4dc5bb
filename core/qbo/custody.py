"""Token custody: handing out access tokens per realm, with single-flight refresh.

One refresh at a time per realm across every process (RELIABILITY.md §2, "Single-flight
refresh per realm"; §3 recipe 10):

1. take the redis-py `Lock` `costbridge:<install id>:lock:refresh:<realm>` (`lock_key`; two
   installs connected to one realm each hold their own refresh token, so each its own lock);
2. re-read the company row with `SELECT ... FOR UPDATE` and skip the call if another process
   already refreshed (the row's `token_version` moved past the one the caller saw, or the access
   token has more than the margin left);
3. renew the lock, then call the token endpoint with the stored refresh token (authlib);
4. write the rotated refresh token, the access token and `token_version + 1` in the same
   transaction (the UPDATE is fenced on the old `token_version`), commit, then release the lock.

The lock's TTL outlives the HTTP calls under it (`LOCK_TIMEOUT`), but a TTL lock can still be
outlived by a paused holder, and on SQLite `FOR UPDATE` is a no-op, so every write is fenced on
the `token_version` read in step 2: an `invalid_grant` that arrives after another process stored
a rotation (it presented the same single-use refresh token first) finds the version moved and
returns that process's token instead of wiping it.

Intuit's refresh tokens are treated as single-use (API.md §8.3): losing a rotated one loses the
connection, so it is committed before anything else happens. `invalid_grant` is the only
terminal answer: the company becomes RECONNECT_NEEDED with words for the admin and
`ReconnectNeeded` (a `NeedsAdmin`) is raised so its jobs stop cleanly.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from redis import Redis
from redis.exceptions import LockError
from redis.lock import Lock
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from core import metrics
from core import namespace
from core.crypto import TokenVault
from core.crypto import remember_secret
from core.crypto import scrubbed_logger
from core.db import utcnow
from core.errors import TryLater
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.qbo.errors import NetworkError
from core.qbo.errors import NotConnected
from core.qbo.errors import ReconnectNeeded
from core.qbo.errors import ServerError
from core.qbo.grants import store_grant
from core.qbo.oauth_config import HTTP_TIMEOUT
from core.qbo.oauth_config import OAuthConfig
from core.qbo.oauth_config import discover

log = scrubbed_logger(__name__)

REFRESH_MARGIN = dt.timedelta(minutes=5)
# requests applies HTTP_TIMEOUT to the connect and to each read, so one call can take about
# twice that. The lock is renewed between discovery and the token call, so its TTL must cover
# one call plus the write, with room to spare.
LOCK_TIMEOUT = 3 * HTTP_TIMEOUT
RECONNECT_WORDS = (
    "QuickBooks no longer accepts costbridge's connection to this company: the authorization "
    "expired or was revoked in QuickBooks."
)
RECONNECT_FIX = "A QuickBooks admin must open the company page and click Connect to QuickBooks."


class AccessToken:
    """An access token and the `token_version` it was read at; its repr hides the value."""

    __slots__ = ("expires_at", "value", "version")

    def __init__(self, value: str, version: int, expires_at: dt.datetime | None) -> None:
        """Hold the plaintext only in memory."""
        self.value = value
        self.version = version
        self.expires_at = expires_at

    def __repr__(self) -> str:
        """Version and expiry, never the token."""
        return f"<AccessToken v{self.version} expires={self.expires_at}>"


class TokenManager:
    """Hands out access tokens per realm and refreshes them, one refresh per realm at a time.

    Args:
        sessions: Session factory (each call opens its own short transaction).
        redis: Redis holding the refresh locks.
        vault: Decrypts and encrypts the stored tokens.
        oauth: The app's OAuth registration.
        http: requests session for the token endpoint (default: a new one).
        margin: Refresh when less than this is left on the access token.
        lock_timeout: Seconds the refresh lock lives if its holder dies; renewed before the
            token call, so it must exceed one HTTP call under `HTTP_TIMEOUT` plus the write.
        lock_wait: Seconds to wait for another process's refresh.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        redis: Redis,
        vault: TokenVault,
        oauth: OAuthConfig,
        *,
        http: requests.Session | None = None,
        margin: dt.timedelta = REFRESH_MARGIN,
        lock_timeout: float = LOCK_TIMEOUT,
        lock_wait: float = 20.0,
    ) -> None:
        """Keep the collaborators; nothing is read until a token is asked for."""
        self.sessions = sessions
        self.redis = redis
        self.vault = vault
        self.oauth = oauth
        self.http = http or requests.Session()
        self.margin = margin
        self.lock_timeout = lock_timeout
        self.lock_wait = lock_wait
        self._cache: dict[str, AccessToken] = {}
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        """No tokens, no keys."""
        return f"<TokenManager {self.oauth.client_id!r}>"

    def access_token(self, realm_id: str) -> AccessToken:
        """A usable access token for the realm, refreshed first if under the margin.

        Raises:
            NotConnected: The company is not connected.
            ReconnectNeeded: The refresh token is dead; the company is now RECONNECT_NEEDED.
            TryLater: Intuit's token endpoint is unreachable or busy.
        """
        with self._cache_lock:
            cached = self._cache.get(realm_id)
        if cached is not None and not self._due(cached.expires_at):
            return cached
        with self.sessions() as session:
            company = self._company(session, realm_id)
            current = self._token_of(company)
        if current is not None and not self._due(current.expires_at):
            self._remember(realm_id, current)
            return current
        return self.refresh(realm_id, seen_version=current.version if current else None)

    def refresh(self, realm_id: str, *, seen_version: int | None = None) -> AccessToken:
        """Refresh the realm's tokens unless another process already did.

        Args:
            realm_id: The company's realm.
            seen_version: The `token_version` of the token the caller found stale (a 401, or
                an expiry within the margin). If the row has moved past it, the newer token is
                returned without calling Intuit.

        Returns:
            The new (or newer) access token.
        """
        # redis-py polls a held lock every 0.1 s by default; the refresh itself takes tens of
        # milliseconds, so waiters poll faster and then find the new token already stored.
        lock = self.redis.lock(
            self.lock_key(realm_id),
            timeout=self.lock_timeout,
            blocking_timeout=self.lock_wait,
            sleep=0.01,
        )
        if not lock.acquire():
            # Another process has held it for lock_wait seconds; its result may be in already.
            with self.sessions() as session:
                fresh = self._token_of(self._company(session, realm_id))
            if fresh is not None and self._newer(fresh, seen_version):
                self._remember(realm_id, fresh)
                return fresh
            raise TryLater(
                "Another costbridge worker is renewing the QuickBooks connection.",
                fix="Nothing to do; it runs again shortly.",
                detail=f"refresh lock for realm {realm_id} busy for {self.lock_wait}s",
            )
        try:
            token = self._refresh_locked(realm_id, seen_version, lock)
        finally:
            try:
                lock.release()
            except LockError:
                # The lock expired while we held it; the row lock and fencing kept us safe.
                log.warning("refresh lock for realm %s expired before release", realm_id)
        self._remember(realm_id, token)
        return token

    def lock_key(self, realm_id: str) -> str:
        """The Redis key of the realm's refresh lock (under the connection's install id)."""
        return namespace.redis_key(self.redis, "lock", "refresh", realm_id)

    def forget_cached(self, realm_id: str) -> None:
        """Drop this process's cached token for the realm (after disconnect)."""
        with self._cache_lock:
            self._cache.pop(realm_id, None)

    # ----------------------------------------------------------------------------------------

    def _refresh_locked(self, realm_id: str, seen_version: int | None, lock: Lock) -> AccessToken:
        try:
            return self._refresh_in_transaction(realm_id, seen_version, lock)
        except _Superseded as moved:
            # Our refresh token was refused because another process had already used it and
            # stored the rotation: its tokens are good, use them.
            with self.sessions() as session:
                company = session.scalars(
                    select(Company).where(Company.realm_id == realm_id)
                ).one_or_none()
                fresh = self._token_of(company) if company is not None else None
                connected = company is not None and (
                    company.connection_status == ConnectionStatus.CONNECTED
                )
            if connected and fresh is not None and fresh.version > moved.version:
                log.info(
                    "realm %s: refresh token refused, but another worker had refreshed (v%s)",
                    realm_id,
                    fresh.version,
                )
                return fresh
            raise TryLater(
                "The QuickBooks connection was renewed twice at once.",
                fix="Nothing to do; it runs again shortly.",
                detail=f"invalid_grant after token_version moved past v{moved.version}",
            ) from None

    def _refresh_in_transaction(
        self, realm_id: str, seen_version: int | None, lock: Lock
    ) -> AccessToken:
        with self.sessions() as session, session.begin():
            company = session.scalars(
                select(Company).where(Company.realm_id == realm_id).with_for_update()
            ).one_or_none()
            self._check_connected(company, realm_id)
            assert company is not None
            current = self._token_of(company)
            if current is not None and self._newer(current, seen_version):
                log.info(
                    "realm %s: token already refreshed by another worker (v%s)",
                    realm_id,
                    current.version,
                )
                return current
            if not company.refresh_token_enc:
                raise self._not_connected(realm_id)
            refresh_token = self.vault.decrypt(company.refresh_token_enc)
            old_version = company.token_version
            try:
                answer = self._call_token_endpoint(refresh_token, lock, realm_id)
            except _GrantRefused:
                self._mark_reconnect(session, company.id, realm_id, old_version)
                raise ReconnectNeeded(
                    RECONNECT_WORDS, fix=RECONNECT_FIX, code="invalid_grant"
                ) from None
            values: dict[str, Any] = {}
            probe = Company(token_version=old_version)
            store_grant(probe, answer, self.vault)
            for column in (
                "access_token_enc",
                "refresh_token_enc",
                "access_expires_at",
                "refresh_expires_at",
                "token_version",
            ):
                value = getattr(probe, column)
                if value is not None:
                    values[column] = value
            # Fencing: only the writer that saw old_version may write (RELIABILITY.md §2).
            result = session.execute(
                update(Company)
                .where(Company.id == company.id, Company.token_version == old_version)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 1) != 1:
                raise TryLater(
                    "The QuickBooks connection was renewed twice at once.",
                    fix="Nothing to do; it runs again shortly.",
                    detail=f"token_version fence failed for realm {realm_id} at v{old_version}",
                )
            log.info(
                "realm %s: refreshed QBO tokens (v%s -> v%s)",
                realm_id,
                old_version,
                old_version + 1,
            )
            return AccessToken(
                str(answer["access_token"]), old_version + 1, values.get("access_expires_at")
            )

    def _call_token_endpoint(self, refresh_token: str, lock: Lock, realm_id: str) -> dict[str, Any]:
        endpoints = discover(self.oauth.discovery_url, self.http)
        # Discovery may have used part of the TTL; start it afresh for the call and the write.
        # If it already ran out another process may hold the lock and this very token: stop.
        try:
            lock.reacquire()
        except LockError:
            raise TryLater(
                "Another costbridge worker is renewing the QuickBooks connection.",
                fix="Nothing to do; it runs again shortly.",
                detail=f"refresh lock for realm {realm_id} expired before the token call",
            ) from None
        client = self.oauth.oauth_session()
        try:
            answer = client.refresh_token(
                endpoints.token_endpoint, refresh_token=refresh_token, timeout=HTTP_TIMEOUT
            )
        except OAuthError as exc:
            if exc.error == "invalid_grant":
                metrics.token_refresh("invalid_grant")
                raise _GrantRefused from None
            raise ServerError(
                "Intuit's sign-in service refused to renew the connection for now.",
                fix="Nothing to do; it is retried automatically.",
                code=str(exc.error),
            ) from None
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise ServerError(
                "Intuit's sign-in service failed while renewing the connection.",
                fix="Nothing to do; it is retried automatically.",
                status=status,
            ) from None
        except (requests.RequestException, ValueError) as exc:
            raise NetworkError(
                "Could not reach Intuit's sign-in service to renew the connection.",
                fix="Nothing to do; it is retried automatically.",
                qbo_message=type(exc).__name__,
            ) from None
        token = dict(answer)
        remember_secret(str(token.get("access_token", "")))
        remember_secret(str(token.get("refresh_token", "")))
        if not token.get("access_token"):
            raise ServerError(
                "Intuit's sign-in service answered without a token.",
                fix="Nothing to do; it is retried automatically.",
            )
        metrics.token_refresh("ok")
        return token

    def _mark_reconnect(
        self, session: Session, company_id: int, realm_id: str, old_version: int
    ) -> None:
        """Wipe the tokens and ask for a reconnect, unless another process stored newer ones.

        Raises:
            _Superseded: `token_version` moved past `old_version`: another process refreshed
                with the same refresh token first, so the refusal says nothing about its tokens.
        """
        # Fenced like the success path: only the writer that saw old_version may write.
        result = session.execute(
            update(Company)
            .where(Company.id == company_id, Company.token_version == old_version)
            .values(
                access_token_enc=None,
                refresh_token_enc=None,
                access_expires_at=None,
                refresh_expires_at=None,
                token_version=old_version + 1,
                connection_status=ConnectionStatus.RECONNECT_NEEDED,
                connection_problem=f"{RECONNECT_WORDS} {RECONNECT_FIX}",
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise _Superseded(old_version)
        # Committed now: the ReconnectNeeded raised next rolls nothing back.
        session.commit()
        self.forget_cached(realm_id)
        log.warning("realm %s: refresh token refused (invalid_grant); reconnect needed", realm_id)

    def _company(self, session: Session, realm_id: str) -> Company:
        company = session.scalars(select(Company).where(Company.realm_id == realm_id)).one_or_none()
        self._check_connected(company, realm_id)
        assert company is not None
        return company

    def _check_connected(self, company: Company | None, realm_id: str) -> None:
        if company is None or company.connection_status != ConnectionStatus.CONNECTED:
            if (
                company is not None
                and company.connection_status == ConnectionStatus.RECONNECT_NEEDED
            ):
                raise ReconnectNeeded(RECONNECT_WORDS, fix=RECONNECT_FIX)
            raise self._not_connected(realm_id)

    @staticmethod
    def _not_connected(realm_id: str) -> NotConnected:
        return NotConnected(
            "This company is not connected to QuickBooks.",
            fix="A QuickBooks admin must open the company page and click Connect to QuickBooks.",
            qbo_message=f"realm {realm_id}",
        )

    def _token_of(self, company: Company) -> AccessToken | None:
        if not company.access_token_enc:
            return None
        return AccessToken(
            self.vault.decrypt(company.access_token_enc),
            company.token_version,
            company.access_expires_at,
        )

    def _due(self, expires_at: dt.datetime | None) -> bool:
        return expires_at is None or expires_at - utcnow() < self.margin

    def _newer(self, token: AccessToken, seen_version: int | None) -> bool:
        if seen_version is not None:
            return token.version > seen_version
        return not self._due(token.expires_at)

    def _remember(self, realm_id: str, token: AccessToken) -> None:
        with self._cache_lock:
            held = self._cache.get(realm_id)
            if held is None or held.version <= token.version:
                self._cache[realm_id] = token


class _GrantRefused(Exception):
    """The token endpoint answered `invalid_grant` to our refresh token."""


class _Superseded(Exception):
    """The company's `token_version` moved past `version` while we were refreshing."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version
