"""Refresh race: 8 processes ask for a token on an expired one; refreshes, losses, waits.

RELIABILITY.md §3 recipe 10, against the sandbox's strict single-use refresh tokens.

Phase 1, the race: 8 spawned processes, each with its own engine, Redis connection and
`TokenManager`, call `access_token(realm)` at the same instant, `BENCH_REFRESH_ROUNDS` times
(default 200). Before each round the sandbox expires the realm's access tokens and the stored
`access_expires_at` is put in the past (what an hour passing does), and each worker drops its
in-process cache (which would be due too). Printed: the token-endpoint refresh calls the sandbox
counted against the rounds (target equal), `invalid_grant` answers (target 0), whether every
worker got the round's one new token and the sandbox accepts it, whether the stored refresh
token is the last one issued (the sandbox holds exactly one live refresh token for the grant and
a further refresh with the stored one succeeds), and p50/p95 of the wait each worker saw.

Phase 2, SIGKILL the lock holder (`BENCH_REFRESH_KILLS`, default 20, each on a fresh realm):
the sandbox's token endpoint is told (chaos, `target="token"`, `phase="after"`) to rotate the
refresh token and then hold its answer; once the sandbox shows the rotation, the process that
made the call (it names itself in Redis just before calling) is SIGKILLed, so the new refresh
token dies with it before our commit. Printed: realms left needing reconnect (the unavoidable
window: expected all of them), how the 7 survivors ended (they must stop cleanly with
`ReconnectNeeded`, not hang or crash) and how long after the kill, and whether those realms work
again after an OAuth reconnect. A control set (`BENCH_REFRESH_CONTROL_KILLS`, default 6) kills
the holder while the token request is held *before* the sandbox runs it: those realms must
recover by themselves once the lock lapses.

The refresh lock is shortened for the kills (`lock_timeout` 1 s, `lock_wait` 6 s instead of
30 s / 20 s) so a dead holder costs seconds, not half a minute; phase 1 uses the same values
(the happy path never gets near them).

Uses the test PostgreSQL (`BENCH_DATABASE_URL`, default postgresql://postgres@127.0.0.1:5432/test)
in a private schema dropped afterwards, and Redis database 13 (`BENCH_REDIS_URL`), flushed before
and after. Run: `.venv/bin/python -m bench refresh` from the checkout.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import multiprocessing
import os
import random
import signal
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import cast

import requests
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from core import migrate
from core.config import Settings
from core.crypto import TokenVault
from core.crypto import new_key
from core.db import make_engine
from core.db import session_factory
from core.db import utcnow
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.qbo.custody import TokenManager
from core.qbo.oauth_config import OAuthConfig
from costbridge_testing.sandbox import Control
from costbridge_testing.sandbox import connect_company
from costbridge_testing.sandbox import sandbox_settings
from costbridge_testing.sandbox import start_sandbox

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
WORKERS = 8
ROUNDS = int(os.environ.get("BENCH_REFRESH_ROUNDS", "200"))
KILLS = int(os.environ.get("BENCH_REFRESH_KILLS", "20"))
CONTROL_KILLS = int(os.environ.get("BENCH_REFRESH_CONTROL_KILLS", "6"))
LOCK_TIMEOUT = 1.0  # seconds the refresh lock outlives a dead holder
LOCK_WAIT = 6.0  # seconds a waiter waits for it (> LOCK_TIMEOUT, so waiters outlast a corpse)
HOLD_MS = 500  # the sandbox holds the token answer this long: the window we kill in
GO_AHEAD = 0.05  # seconds between sending "go" and the common start instant
REFRESHER_KEY = "bench:refresher:{realm}"

_announce: Redis | None = None  # set in each worker process
_current_realm = [""]  # the realm a worker is asking about, for the announcement


class _AnnouncingOAuth(OAuthConfig):
    """The app's OAuth registration; notes in Redis which process calls the token endpoint.

    `TokenManager` asks for an authlib session right before calling the token endpoint, under
    the refresh lock, so the parent knows whom to kill. Nothing else changes.
    """

    def oauth_session(self, **kwargs: Any) -> Any:
        """Name this process as the refresher, then build the session as usual."""
        if _announce is not None:
            _announce.set(REFRESHER_KEY.format(realm=_current_realm[0]), os.getpid(), px=60_000)
        return super().oauth_session(**kwargs)


def _worker(settings: Settings, commands: Any, results: Any) -> None:
    """One process of the race: wait for `(realm, go_at)`, then ask for the realm's token.

    Puts `("ready", pid)` once set up, then one `("result", pid, realm, seconds, outcome)` per
    command, `outcome` being `("token", version, digest)`, `("reconnect",)`,
    `("try_later", detail)` or `("error", text)`.
    """
    global _announce
    logging.disable(logging.WARNING)  # the lost-grant warnings are expected here
    from core.errors import TryLater
    from core.qbo.errors import ReconnectNeeded

    engine = make_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    _announce = redis
    tokens = TokenManager(
        session_factory(engine),
        redis,
        TokenVault(settings.token_keys),
        _AnnouncingOAuth.from_settings(settings),
        lock_timeout=LOCK_TIMEOUT,
        lock_wait=LOCK_WAIT,
    )
    pid = os.getpid()
    results.put(("ready", pid))
    try:
        while True:
            command = commands.get()
            if command is None:
                return
            realm, go_at = command
            _current_realm[0] = realm
            # An hour passing would make this process's cached token due as well.
            tokens.forget_cached(realm)
            time.sleep(max(0.0, go_at - time.time()))
            started = time.perf_counter()
            outcome: tuple[Any, ...]
            try:
                token = tokens.access_token(realm)
                digest = hashlib.sha256(token.value.encode()).hexdigest()[:16]
                outcome = ("token", token.version, digest)
            except ReconnectNeeded:
                outcome = ("reconnect",)
            except TryLater as exc:
                outcome = ("try_later", exc.detail)
            except Exception as exc:  # reported to the parent, which counts it
                outcome = ("error", f"{type(exc).__name__}: {exc}")
            results.put(("result", pid, realm, time.perf_counter() - started, outcome))
    finally:
        redis.close()
        engine.dispose()


@dataclass
class _Pool:
    """The worker processes, by pid, with their command queues."""

    ctx: Any
    settings: Settings
    results: Any = None
    procs: dict[int, Any] = field(default_factory=dict)
    commands: dict[int, Any] = field(default_factory=dict)
    ready: set[int] = field(default_factory=set)
    pending: int = 0  # started, not yet ready

    def spawn(self) -> None:
        """Start one more worker (it reports ready later)."""
        commands = self.ctx.Queue()
        proc = self.ctx.Process(target=_worker, args=(self.settings, commands, self.results))
        proc.start()
        assert proc.pid is not None
        self.procs[proc.pid] = proc
        self.commands[proc.pid] = commands
        self.pending += 1

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until every started worker said it is ready."""
        deadline = time.monotonic() + timeout
        while self.pending:
            self._take(deadline)

    def race(self, realm: str) -> float:
        """Tell every live worker to ask for the realm's token at the same instant."""
        go_at = time.time() + GO_AHEAD
        for pid in self.ready:
            self.commands[pid].put((realm, go_at))
        return go_at

    def collect(self, n: int, timeout: float) -> list[tuple[Any, ...]]:
        """The next `n` results (ready messages met on the way are recorded)."""
        deadline = time.monotonic() + timeout
        out: list[tuple[Any, ...]] = []
        while len(out) < n:
            message = self._take(deadline)
            if message[0] == "result":
                out.append(message)
        return out

    def kill(self, pid: int) -> None:
        """SIGKILL one worker and forget it."""
        os.kill(pid, signal.SIGKILL)
        self.procs.pop(pid).join(timeout=10)
        self.commands.pop(pid).close()
        self.ready.discard(pid)

    def stop(self) -> None:
        """Ask every worker to end, then make sure they did."""
        for commands in self.commands.values():
            commands.put(None)
        for proc in self.procs.values():
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()

    def _take(self, deadline: float) -> tuple[Any, ...]:
        message: tuple[Any, ...] = self.results.get(timeout=max(0.1, deadline - time.monotonic()))
        if message[0] == "ready":
            self.ready.add(message[1])
            self.pending -= 1
        return message


@contextmanager
def bench_environment(tag: str) -> Iterator[tuple[Settings, Engine, sessionmaker[Session], Redis]]:
    """A private schema, Redis database 13 flushed around the run, settings for the sandbox."""
    from costbridge_testing.services import private_schema_url

    schema = f"bench_{tag}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(private_schema_url(DATABASE_URL, "public"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = private_schema_url(DATABASE_URL, schema)
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.from_env(
                {
                    "COSTBRIDGE_ENV": "test",
                    "COSTBRIDGE_INSTANCE": tmp,
                    "DATABASE_URL": url,
                    "REDIS_URL": REDIS_URL,
                    "TOKEN_ENCRYPTION_KEY": new_key(),
                }
            )
            yield settings, engine, session_factory(engine), redis
    finally:
        engine.dispose()
        redis.flushdb()
        redis.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def connect_new_company(
    settings: Settings, sessions: sessionmaker[Session], name: str
) -> tuple[int, str]:
    """A new company connected through real OAuth to a new sandbox realm."""
    with sessions() as s, s.begin():
        company = Company(name=name)
        s.add(company)
        s.flush()
        company_id = company.id
    hint = str(random.randrange(10**15, 10**16))
    return company_id, connect_company(settings, sessions, company_id, realm_hint=hint)


def _row(sessions: sessionmaker[Session], realm: str) -> Company:
    with sessions() as s:
        row = s.scalars(select(Company).where(Company.realm_id == realm)).one()
        s.expunge(row)
        return row


def _expire(ctl: Control, sessions: sessionmaker[Session], realm: str) -> None:
    """What an hour does: the sandbox refuses the access token and ours is past its expiry."""
    ctl.expire_tokens(realm)
    with sessions() as s, s.begin():
        s.execute(
            update(Company)
            .where(Company.realm_id == realm)
            .values(access_expires_at=utcnow() - dt.timedelta(seconds=1))
        )


def _accepted(base: str, realm: str, token: str) -> bool:
    resp = requests.get(
        f"{base}/v3/company/{realm}/companyinfo/{realm}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=10,
    )
    return resp.status_code == 200


def _refreshes(ctl: Control) -> tuple[int, int]:
    state = ctl.oauth()
    return int(state["token_calls"].get("refresh_token", 0)), int(state["invalid_grant"])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    """Run the race and the SIGKILL variant; print their figures."""
    logging.getLogger("core").setLevel(logging.ERROR)
    server = start_sandbox(seed="none")
    ctl = Control(server.url)
    ctl.throttle(enabled=False, reset=True)  # QBO's request limits are not what is measured
    try:
        with bench_environment("refresh") as (base_settings, _engine, sessions, redis):
            settings = sandbox_settings(base_settings, server.url)
            pool = _Pool(multiprocessing.get_context("spawn"), settings)
            pool.results = pool.ctx.Queue()
            started = time.perf_counter()
            for _ in range(WORKERS):
                pool.spawn()
            pool.wait_ready()
            print(f"   {WORKERS} spawned workers ready in {time.perf_counter() - started:.1f} s")
            try:
                _race(pool, settings, sessions, redis, ctl, server.url)
                _kills(pool, settings, sessions, redis, ctl, server.url)
            finally:
                pool.stop()
    finally:
        server.stop()
        logging.getLogger("core").setLevel(logging.NOTSET)


def _race(
    pool: _Pool,
    settings: Settings,
    sessions: sessionmaker[Session],
    redis: Redis,
    ctl: Control,
    base: str,
) -> None:
    _, realm = connect_new_company(settings, sessions, "Race Builders")
    vault = TokenVault(settings.token_keys)
    calls0, refused0 = _refreshes(ctl)
    waits: list[float] = []
    refresher_waits: list[float] = []
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    one_token = accepted = refresher_named = 0
    started = time.perf_counter()
    for _ in range(ROUNDS):
        _expire(ctl, sessions, realm)
        version = _row(sessions, realm).token_version
        pool.race(realm)
        results = pool.collect(WORKERS, timeout=60)
        refresher = redis.getdel(REFRESHER_KEY.format(realm=realm))
        refresher_pid = int(cast(bytes, refresher)) if refresher else None
        refresher_named += refresher_pid is not None
        got = set()
        for _, pid, _, seconds, outcome in results:
            outcomes[outcome[0]] += 1
            waits.append(seconds)
            if pid == refresher_pid:
                refresher_waits.append(seconds)
            if outcome[0] == "token":
                got.add((outcome[1], outcome[2]))
            else:
                errors.append(str(outcome))
        row = _row(sessions, realm)
        if len(got) == 1 and got == {
            (
                version + 1,
                hashlib.sha256(vault.decrypt(row.access_token_enc or "").encode()).hexdigest()[:16],
            )
        }:
            one_token += 1
        accepted += _accepted(base, realm, vault.decrypt(row.access_token_enc or ""))
    elapsed = time.perf_counter() - started
    calls, refused = _refreshes(ctl)
    live = ctl.oauth()["realms"].get(realm, {}).get("refresh_active", 0)
    # The stored refresh token is the last one issued iff it is the grant's only live one and
    # Intuit (the sandbox) still takes it. This last refresh is not counted above.
    tokens = TokenManager(
        sessions, redis, vault, OAuthConfig.from_settings(settings), lock_timeout=LOCK_TIMEOUT
    )
    try:
        tokens.refresh(realm, seen_version=_row(sessions, realm).token_version)
        works = True
    except Exception:
        works = False
    waiter_waits = list(waits)
    for w in refresher_waits:
        waiter_waits.remove(w)
    print(
        f"   race: {WORKERS} workers x {ROUNDS} rounds in {elapsed:.1f} s: token-endpoint refresh "
        f"calls {calls - calls0} (target {ROUNDS}), invalid_grant {refused - refused0} "
        f"(target 0), answers {dict(outcomes)}"
    )
    print(
        f"   every worker got the round's one new token (version +1) in {one_token}/{ROUNDS} "
        f"rounds; the sandbox accepted it in {accepted}/{ROUNDS}"
    )
    print(
        f"   stored refresh token == last issued: {'yes' if live == 1 and works else 'no'} "
        f"(live refresh tokens for the grant: {live}; a further refresh with the stored one "
        f"{'succeeded' if works else 'FAILED'})"
    )
    print(
        f"   wait for a token (all {len(waits)}): p50 {1000 * statistics.median(waits):.0f} ms, "
        f"p95 {1000 * _pct(waits, 0.95):.0f} ms, max {1000 * max(waits):.0f} ms; the refresher "
        f"({refresher_named} rounds): p50 {1000 * statistics.median(refresher_waits or [0]):.0f} "
        f"ms; the others: p50 {1000 * statistics.median(waiter_waits or [0]):.0f} ms, "
        f"p95 {1000 * _pct(waiter_waits or [0], 0.95):.0f} ms"
    )
    if errors:
        print(f"   errors (first 3): {errors[:3]}")


@dataclass
class _KillOutcome:
    company_id: int
    realm: str
    killed: bool = False
    rotated: bool = False
    survivors: Counter[str] = field(default_factory=Counter)
    settled_after: float = 0.0  # seconds from the kill to the last survivor's answer
    status: str = ""
    working: bool = False


def _kills(
    pool: _Pool,
    settings: Settings,
    sessions: sessionmaker[Session],
    redis: Redis,
    ctl: Control,
    base: str,
) -> None:
    vault = TokenVault(settings.token_keys)
    tokens = TokenManager(
        sessions, redis, vault, OAuthConfig.from_settings(settings), lock_timeout=LOCK_TIMEOUT
    )
    started = time.perf_counter()
    window = [_kill_once(pool, settings, sessions, redis, ctl, after=True) for _ in range(KILLS)]
    control = [
        _kill_once(pool, settings, sessions, redis, ctl, after=False) for _ in range(CONTROL_KILLS)
    ]
    elapsed = time.perf_counter() - started
    for label, trials in (
        (f"killed after the sandbox rotated, before our commit ({KILLS} realms)", window),
        (f"control: killed before the sandbox ran the refresh ({CONTROL_KILLS} realms)", control),
    ):
        survivors: Counter[str] = Counter()
        for t in trials:
            survivors.update(t.survivors)
        lost = sum(t.status == ConnectionStatus.RECONNECT_NEEDED for t in trials)
        settle = [t.settled_after for t in trials] or [0.0]
        print(
            f"   SIGKILL {label}: killed {sum(t.killed for t in trials)}, rotation seen "
            f"{sum(t.rotated for t in trials)}; realms needing reconnect {lost}, connected "
            f"and working {sum(t.working for t in trials)}; survivors answered {dict(survivors)} "
            f"within {max(settle):.1f} s of the kill (median {statistics.median(settle):.1f} s)"
        )
    reconnected = 0
    for t in window:
        if t.status != ConnectionStatus.RECONNECT_NEEDED:
            continue
        realm = t.realm
        connect_company(settings, sessions, t.company_id, realm_hint=realm)
        try:
            token = tokens.refresh(realm, seen_version=_row(sessions, realm).token_version)
            reconnected += _accepted(base, realm, token.value)
        except Exception as exc:
            print(f"   reconnect of realm {realm} failed: {type(exc).__name__}")
    print(
        f"   lost realms reconnected through OAuth and working again: {reconnected}/"
        f"{sum(t.status == ConnectionStatus.RECONNECT_NEEDED for t in window)} "
        f"(kill phase {elapsed:.1f} s)"
    )


def _kill_once(
    pool: _Pool,
    settings: Settings,
    sessions: sessionmaker[Session],
    redis: Redis,
    ctl: Control,
    *,
    after: bool,
) -> _KillOutcome:
    """One realm: race, SIGKILL the refresher inside (after) or before the rotation."""
    pool.wait_ready()
    company_id, realm = connect_new_company(
        settings, sessions, f"Kill Builders {uuid.uuid4().hex[:6]}"
    )
    out = _KillOutcome(company_id, realm)
    _expire(ctl, sessions, realm)
    if after:
        # The sandbox rotates the refresh token, then holds the answer for HOLD_MS.
        ctl.faults(target="token", phase="after", latency_ms=HOLD_MS, count=1)
    else:
        # The request waits HOLD_MS before the sandbox looks at it (then the socket is dropped).
        ctl.faults(
            target="token", phase="before", latency_ms=HOLD_MS, drop_connection=True, count=1
        )
    rotated0 = int(ctl.oauth()["refresh_tokens"]["rotated"])
    live = len(pool.ready)
    pool.race(realm)
    key = REFRESHER_KEY.format(realm=realm)
    deadline = time.monotonic() + 10
    pid = None
    while pid is None and time.monotonic() < deadline:
        value = redis.get(key)
        pid = int(cast(bytes, value)) if value else None
        if pid is None:
            time.sleep(0.002)
    if pid is None:
        raise RuntimeError("no worker called the token endpoint")
    if after:
        while time.monotonic() < deadline:
            if int(ctl.oauth()["refresh_tokens"]["rotated"]) > rotated0:
                break
            time.sleep(0.005)
    else:
        time.sleep(0.1)  # inside the HOLD_MS the sandbox waits before running the grant
    pool.kill(pid)
    killed_at = time.monotonic()
    out.killed = True
    out.rotated = int(ctl.oauth()["refresh_tokens"]["rotated"]) > rotated0
    pool.spawn()  # the replacement imports while the survivors wait out the lock
    for _, _, _, _, outcome in pool.collect(live - 1, timeout=LOCK_TIMEOUT + LOCK_WAIT + 30):
        out.survivors[outcome[0]] += 1
    out.settled_after = time.monotonic() - killed_at
    ctl.clear_faults()
    row = _row(sessions, realm)
    out.status = row.connection_status
    if row.connection_status == ConnectionStatus.CONNECTED and row.access_token_enc:
        token = TokenVault(settings.token_keys).decrypt(row.access_token_enc)
        out.working = _accepted(settings.qbo_api_base, realm, token)
    redis.delete(key)
    return out


if __name__ == "__main__":
    main()
