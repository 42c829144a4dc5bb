"""Token custody against the sandbox's strict single-use refresh tokens (RELIABILITY.md §3/10)."""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.crypto import TokenVault
from core.crypto import install_log_scrubber
from core.db import utcnow
from core.errors import NeedsAdmin
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.qbo.client import QboClient
from core.qbo.errors import ReconnectNeeded
from core.qbo.testing import Control
from core.qbo.testing import connect_company
from core.qbo.testing import refresh_race_worker
from core.qbo.tokens import TokenManager
from core.runtime import Runtime

WORKERS = 8


def refreshes(control: Control) -> int:
    return int(control.oauth()["token_calls"].get("refresh_token", 0))


def stored(rt: Runtime, realm_id: str) -> Company:
    with rt.sessions() as session:
        row = session.scalars(select(Company).where(Company.realm_id == realm_id)).one()
        session.expunge(row)
        return row


def run_race(rt: Runtime, realm_id: str, control: Control, *, expire: bool) -> list[dict[str, Any]]:
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
        control.expire_tokens(realm_id)
    barrier.wait(timeout=120)  # go: every process now holds a token QBO refuses
    outcome = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return outcome


@pytest.mark.slow
def test_eight_workers_whose_token_expires_mid_run_refresh_exactly_once(
    qbo_runtime: Runtime, realm_id: str, control: Control
) -> None:
    before = stored(qbo_runtime, realm_id)
    calls_before = refreshes(control)
    refused_before = control.oauth()["invalid_grant"]
    outcome = run_race(qbo_runtime, realm_id, control, expire=True)
    assert [o["errors"] for o in outcome] == [[]] * WORKERS
    assert sum(o["ok"] for o in outcome) == WORKERS * 8
    assert refreshes(control) - calls_before == 1
    assert control.oauth()["invalid_grant"] == refused_before
    after = stored(qbo_runtime, realm_id)
    assert after.token_version == before.token_version + 1
    assert after.refresh_token_enc != before.refresh_token_enc


@pytest.mark.slow
def test_workers_refresh_once_when_the_stored_token_is_inside_the_margin(
    qbo_runtime: Runtime, realm_id: str, control: Control
) -> None:
    with qbo_runtime.sessions() as session, session.begin():
        session.execute(
            update(Company)
            .where(Company.realm_id == realm_id)
            .values(access_expires_at=utcnow() + dt.timedelta(minutes=4))
        )
    calls_before = refreshes(control)
    outcome = run_race(qbo_runtime, realm_id, control, expire=False)
    assert [o["errors"] for o in outcome] == [[]] * WORKERS
    assert refreshes(control) - calls_before == 1
    assert stored(qbo_runtime, realm_id).access_expires_at > utcnow() + dt.timedelta(minutes=50)


def test_a_fresh_token_is_used_without_refreshing(
    tokens: TokenManager, realm_id: str, control: Control
) -> None:
    before = refreshes(control)
    first = tokens.access_token(realm_id)
    assert tokens.access_token(realm_id).value == first.value
    assert refreshes(control) == before


def test_the_rotated_refresh_token_is_stored_before_the_lock_is_released(
    qbo_runtime: Runtime, tokens: TokenManager, realm_id: str
) -> None:
    vault = TokenVault(qbo_runtime.settings.token_keys)
    before = stored(qbo_runtime, realm_id)
    old = vault.decrypt(before.refresh_token_enc or "")
    tokens.refresh(realm_id, seen_version=before.token_version)
    row = stored(qbo_runtime, realm_id)
    assert vault.decrypt(row.refresh_token_enc or "") != old
    assert qbo_runtime.redis.get(f"lock:refresh:{realm_id}") is None
    # The stored one works: a second refresh succeeds (a lost rotation would be invalid_grant).
    tokens.refresh(realm_id, seen_version=row.token_version)


def test_invalid_grant_marks_reconnect_needed_and_stops_the_job(
    qbo_runtime: Runtime, tokens: TokenManager, realm_id: str, control: Control
) -> None:
    control.revoke_tokens(realm_id)
    with pytest.raises(ReconnectNeeded) as caught:
        tokens.refresh(realm_id, seen_version=stored(qbo_runtime, realm_id).token_version)
    assert isinstance(caught.value, NeedsAdmin)
    row = stored(qbo_runtime, realm_id)
    assert row.connection_status == ConnectionStatus.RECONNECT_NEEDED
    assert "Connect to QuickBooks" in (row.connection_problem or "")
    assert row.refresh_token_enc is None
    assert row.access_token_enc is None
    with pytest.raises(NeedsAdmin):  # later jobs stop at once, without calling Intuit
        tokens.access_token(realm_id)


def test_no_token_reaches_logs_exceptions_or_reprs_over_a_full_cycle(
    qbo_runtime: Runtime,
    tokens: TokenManager,
    control: Control,
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
    hint = control.seed("empty")
    with caplog.at_level(logging.DEBUG):
        # Connect: authorize, code exchange (authlib, urllib3 at DEBUG), tokens stored.
        realm = connect_company(qbo_runtime.settings, qbo_runtime.sessions, other.id, hint)
        row = stored(qbo_runtime, realm)
        seen += [
            vault.decrypt(row.access_token_enc or ""),
            vault.decrypt(row.refresh_token_enc or ""),
        ]
        client = QboClient(realm, tokens, base_url=qbo_runtime.settings.qbo_api_base)
        # Refresh: a 401 forces one, then the call is retried.
        control.faults(status=401, count=1)
        client.company_info()
        row = stored(qbo_runtime, realm)
        seen += [
            vault.decrypt(row.access_token_enc or ""),
            vault.decrypt(row.refresh_token_enc or ""),
        ]
        logging.getLogger("core.qbo.test").info("token was %s", seen[0])  # a careless log line
        # Error: the grant dies; the next 401 ends in invalid_grant.
        control.revoke_tokens(realm)
        try:
            client.company_info()
        except ReconnectNeeded as exc:
            errors.append(exc)
    assert errors, "the dead grant must surface"
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    texts = [text, repr(client), repr(tokens), repr(stored(qbo_runtime, realm))] + [
        f"{e!s} {e!r} {getattr(e, 'detail', '')}" for e in errors
    ]
    for secret in seen:
        assert len(secret) > 20
        for t in texts:
            assert secret not in t
    assert "[redacted]" in caplog.text
