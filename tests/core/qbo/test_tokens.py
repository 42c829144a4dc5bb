"""Token custody against the sandbox's strict single-use refresh tokens (RELIABILITY.md §3/10)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from bench.refresh_worker import refresh_race_worker
from core.config import Settings
from core.crypto import TokenVault
from core.crypto import install_log_scrubber
from core.db import Base
from core.db import make_engine
from core.db import session_factory
from core.db import utcnow
from core.errors import NeedsAdmin
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.qbo.client import QboClient
from core.qbo.custody import TokenManager
from core.qbo.errors import ReconnectNeeded
from core.qbo.oauth_config import HTTP_TIMEOUT
from core.qbo.oauth_config import OAuthConfig
from core.qbo.oauth_config import discover
from core.runtime import Runtime
from costbridge_testing.sandbox import Control
from costbridge_testing.sandbox import connect_company

WORKERS = 8


def refreshes(sandbox_control: Control) -> int:
    return int(sandbox_control.oauth()["token_calls"].get("refresh_token", 0))


def stored(rt: Runtime, realm_id: str) -> Company:
    with rt.sessions() as session:
        row = session.scalars(select(Company).where(Company.realm_id == realm_id)).one()
        session.expunge(row)
        return row


def run_race(
    rt: Runtime, realm_id: str, sandbox_control: Control, *, expire: bool
) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS + 1)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=refresh_race_worker, args=(rt.settings, realm_id, 4, barrier, results))
        for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)  # all started
    barrier.wait(timeout=120)  # all made their first calls with the original token
    if expire:
        sandbox_control.expire_tokens(realm_id)
    barrier.wait(timeout=120)  # go: every process now holds a token QBO refuses
    outcome = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return outcome


@pytest.mark.slow
def test_eight_workers_whose_token_expires_mid_run_refresh_exactly_once(
    qbo_runtime: Runtime, realm_id: str, sandbox_control: Control
) -> None:
    before = stored(qbo_runtime, realm_id)
    calls_before = refreshes(sandbox_control)
    refused_before = sandbox_control.oauth()["invalid_grant"]
    outcome = run_race(qbo_runtime, realm_id, sandbox_control, expire=True)
    assert [o["errors"] for o in outcome] == [[]] * WORKERS
    assert sum(o["ok"] for o in outcome) == WORKERS * 8
    assert refreshes(sandbox_control) - calls_before == 1
    assert sandbox_control.oauth()["invalid_grant"] == refused_before
    after = stored(qbo_runtime, realm_id)
    assert after.token_version == before.token_version + 1
    assert after.refresh_token_enc != before.refresh_token_enc


@pytest.mark.slow
def test_workers_refresh_once_when_the_stored_token_is_inside_the_margin(
    qbo_runtime: Runtime, realm_id: str, sandbox_control: Control
) -> None:
    with qbo_runtime.sessions() as session, session.begin():
        session.execute(
            update(Company)
            .where(Company.realm_id == realm_id)
            .values(access_expires_at=utcnow() + dt.timedelta(minutes=4))
        )
    calls_before = refreshes(sandbox_control)
    outcome = run_race(qbo_runtime, realm_id, sandbox_control, expire=False)
    assert [o["errors"] for o in outcome] == [[]] * WORKERS
    assert refreshes(sandbox_control) - calls_before == 1
    assert stored(qbo_runtime, realm_id).access_expires_at > utcnow() + dt.timedelta(minutes=50)


def test_a_fresh_token_is_used_without_refreshing(
    token_manager: TokenManager, realm_id: str, sandbox_control: Control
) -> None:
    before = refreshes(sandbox_control)
    first = token_manager.access_token(realm_id)
    assert token_manager.access_token(realm_id).value == first.value
    assert refreshes(sandbox_control) == before


def test_the_rotated_refresh_token_is_stored_before_the_lock_is_released(
    qbo_runtime: Runtime, token_manager: TokenManager, realm_id: str
) -> None:
    vault = TokenVault(qbo_runtime.settings.token_keys)
    before = stored(qbo_runtime, realm_id)
    old = vault.decrypt(before.refresh_token_enc or "")
    token_manager.refresh(realm_id, seen_version=before.token_version)
    row = stored(qbo_runtime, realm_id)
    assert vault.decrypt(row.refresh_token_enc or "") != old
    assert qbo_runtime.redis.get(token_manager.lock_key(realm_id)) is None
    # The stored one works: a second refresh succeeds (a lost rotation would be invalid_grant).
    token_manager.refresh(realm_id, seen_version=row.token_version)


def test_invalid_grant_marks_reconnect_needed_and_stops_the_job(
    qbo_runtime: Runtime, token_manager: TokenManager, realm_id: str, sandbox_control: Control
) -> None:
    sandbox_control.revoke_tokens(realm_id)
    with pytest.raises(ReconnectNeeded) as caught:
        token_manager.refresh(realm_id, seen_version=stored(qbo_runtime, realm_id).token_version)
    assert isinstance(caught.value, NeedsAdmin)
    row = stored(qbo_runtime, realm_id)
    assert row.connection_status == ConnectionStatus.RECONNECT_NEEDED
    assert "Connect to QuickBooks" in (row.connection_problem or "")
    assert row.refresh_token_enc is None
    assert row.access_token_enc is None
    with pytest.raises(NeedsAdmin):  # later jobs stop at once, without calling Intuit
        token_manager.access_token(realm_id)


def test_no_token_reaches_logs_exceptions_or_reprs_over_a_full_cycle(
    qbo_runtime: Runtime,
    token_manager: TokenManager,
    sandbox_control: Control,
    committed_db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_scrubber([caplog.handler])
    seen: list[str] = []
    vault = TokenVault(qbo_runtime.settings.token_keys)
    errors: list[BaseException] = []
    other = Company(name="Log Watch Builders")
    committed_db.add(other)
    committed_db.commit()
    hint = sandbox_control.seed("empty")
    with caplog.at_level(logging.DEBUG):
        # Connect: authorize, code exchange (authlib, urllib3 at DEBUG), tokens stored.
        realm = connect_company(qbo_runtime.settings, qbo_runtime.sessions, other.id, hint)
        row = stored(qbo_runtime, realm)
        seen += [
            vault.decrypt(row.access_token_enc or ""),
            vault.decrypt(row.refresh_token_enc or ""),
        ]
        qbo_client = QboClient(realm, token_manager, base_url=qbo_runtime.settings.qbo_api_base)
        # Refresh: a 401 forces one, then the call is retried.
        sandbox_control.faults(status=401, count=1)
        qbo_client.company_info()
        row = stored(qbo_runtime, realm)
        seen += [
            vault.decrypt(row.access_token_enc or ""),
            vault.decrypt(row.refresh_token_enc or ""),
        ]
        logging.getLogger("core.qbo.test").info("token was %s", seen[0])  # a careless log line
        # Error: the grant dies; the next 401 ends in invalid_grant.
        sandbox_control.revoke_tokens(realm)
        try:
            qbo_client.company_info()
        except ReconnectNeeded as exc:
            errors.append(exc)
    assert errors, "the dead grant must surface"
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    texts = [text, repr(qbo_client), repr(token_manager), repr(stored(qbo_runtime, realm))] + [
        f"{e!s} {e!r} {getattr(e, 'detail', '')}" for e in errors
    ]
    for secret in seen:
        assert len(secret) > 20
        for t in texts:
            assert secret not in t
    assert "[redacted]" in caplog.text


REALM = "4620816365257778"


@pytest.fixture
def sqlite_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A SQLite database: `FOR UPDATE` is a no-op there, so only the fence orders writers."""
    engine = make_engine(f"sqlite:///{tmp_path / 'tokens.db'}")
    Base.metadata.create_all(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def fake_intuit() -> Iterator[tuple[str, list[Callable[[], None]]]]:
    """Discovery plus a token endpoint that refuses every refresh with `invalid_grant`.

    Yields the discovery URL and a list of callbacks run when a refresh arrives, before the
    answer leaves: the moment another worker's write lands while our call is in flight.
    """
    during_call: list[Callable[[], None]] = []

    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/discovery":
            base = request.host_url.rstrip("/")
            doc = {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "revocation_endpoint": f"{base}/revoke",
            }
            return Response(json.dumps(doc), mimetype="application/json")
        for step in during_call:
            step()
        return Response(
            json.dumps({"error": "invalid_grant"}), status=400, mimetype="application/json"
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/discovery", during_call
    server.shutdown()
    thread.join(5)


def store_tokens(
    sessions: sessionmaker[Session], vault: TokenVault, access: str, refresh: str, version: int
) -> None:
    with sessions() as session, session.begin():
        row = session.scalars(select(Company).where(Company.realm_id == REALM)).one_or_none()
        if row is None:
            row = Company(name="Ridgeline Builders", realm_id=REALM)
            session.add(row)
        row.connection_status = ConnectionStatus.CONNECTED
        row.access_token_enc = vault.encrypt(access)
        row.refresh_token_enc = vault.encrypt(refresh)
        row.access_expires_at = utcnow() + dt.timedelta(hours=1)
        row.token_version = version


@dataclass
class Custody:
    """Token custody on SQLite, talking to the fake Intuit, with version 1 tokens stored."""

    vault: TokenVault
    token_manager: TokenManager
    discovery_url: str
    during_call: list[Callable[[], None]]


@pytest.fixture
def custody(
    sqlite_sessions: sessionmaker[Session],
    fake_intuit: tuple[str, list[Callable[[], None]]],
    settings: Settings,
    redis_conn: Any,
) -> Custody:
    discovery_url, during_call = fake_intuit
    vault = TokenVault(settings.token_keys)
    store_tokens(sqlite_sessions, vault, "access-v1", "refresh-v1", version=1)
    config = OAuthConfig("client", "secret", discovery_url, "http://127.0.0.1/callback")
    token_manager = TokenManager(sqlite_sessions, redis_conn, vault, config)
    return Custody(vault, token_manager, discovery_url, during_call)


def test_invalid_grant_after_another_worker_stored_its_refresh_keeps_that_workers_tokens(
    sqlite_sessions: sessionmaker[Session], custody: Custody
) -> None:
    vault = custody.vault
    # Worker B presented refresh-v1 first and committed its rotation while ours was in
    # flight, so Intuit refuses our (now spent) refresh-v1.
    custody.during_call.append(
        lambda: store_tokens(sqlite_sessions, vault, "access-v2", "refresh-v2", version=2)
    )

    token = custody.token_manager.refresh(REALM, seen_version=1)

    assert token.value == "access-v2"
    with sqlite_sessions() as session:
        row = session.scalars(select(Company).where(Company.realm_id == REALM)).one()
        assert row.connection_status == ConnectionStatus.CONNECTED
        assert row.token_version == 2
        assert vault.decrypt(row.refresh_token_enc or "") == "refresh-v2"


def test_invalid_grant_with_nobody_else_refreshing_still_asks_for_a_reconnect(
    sqlite_sessions: sessionmaker[Session], custody: Custody
) -> None:
    with pytest.raises(ReconnectNeeded):
        custody.token_manager.refresh(REALM, seen_version=1)
    with sqlite_sessions() as session:
        row = session.scalars(select(Company).where(Company.realm_id == REALM)).one()
        assert row.connection_status == ConnectionStatus.RECONNECT_NEEDED
        assert row.refresh_token_enc is None
        assert row.token_version == 2


def test_the_refresh_lock_outlives_the_http_calls_made_under_it(
    custody: Custody, redis_conn: Any
) -> None:
    discover(custody.discovery_url)  # cached, as in a long-running worker
    ttl: list[int] = []
    custody.during_call.append(
        lambda: ttl.append(int(redis_conn.pttl(custody.token_manager.lock_key(REALM))))
    )
    with pytest.raises(ReconnectNeeded):
        custody.token_manager.refresh(REALM, seen_version=1)
    # requests' timeout bounds the connect and each read: one call may take twice HTTP_TIMEOUT.
    assert ttl
    assert ttl[0] / 1000 > 2 * HTTP_TIMEOUT
