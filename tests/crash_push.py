"""Crash test of the push path (`make crash-test`): exactly-once with workers killed at random.

Each scenario records 200 bill pushes, starts two real `costbridge worker` processes against
the sandbox over HTTP (answers delayed after QBO committed, so kills land before the send,
between send and answer, and between answer and commit), and SIGKILLs a work-horse or a whole
worker every 1.5-3 s for the first 20 s, restarting what it killed. Scenarios: `sigkill`;
`redis-flush` (the same, with Redis flushed once mid-run); `no-requestid` (the same, with the
sandbox ignoring requestid, so only our ledger and the marker look-up prevent duplicates).
One line each:

    sigkill: bills=200 qbo_bills=200 duplicates=0 lost=0 kills=23 seconds=41.2

and a non-zero exit when any scenario lost or duplicated a bill, or sent a query the sandbox
(as strict as Intuit) refused: the line counts the marker look-ups and the refused queries.
Run it with `.venv/bin/python -m tests.crash_push` (PostgreSQL and Redis on 127.0.0.1, as for
the tests).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from redis import Redis
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from core import migrate
from core import runtime as runtime_mod
from core.config import Settings
from core.db import make_engine
from core.markers import marker
from core.models import Company
from core.models import OutboxEntry
from core.models import OutboxState
from core.models import Project
from core.plugins import make_plugin_manager
from core.push import queueing
from core.push import records
from core.push.records import LineInput
from core.runtime import Runtime
from costbridge_testing.sandbox import CLIENT_ID
from costbridge_testing.sandbox import CLIENT_SECRET
from costbridge_testing.sandbox import REDIRECT_URI
from costbridge_testing.sandbox import Control
from costbridge_testing.sandbox import connect_company
from costbridge_testing.sandbox import sandbox_settings
from costbridge_testing.sandbox import start_sandbox
from costbridge_testing.services import REDIS_REGISTRY_DB
from costbridge_testing.services import TEST_REDIS_BASE
from costbridge_testing.services import TEST_TOKEN_KEY
from costbridge_testing.services import claim_redis_db
from costbridge_testing.services import postgres_url_from_env
from costbridge_testing.services import private_schema_url
from costbridge_testing.services import redis_lease
from tests.core.push.conftest import make_books

REPO = Path(__file__).resolve().parent.parent
COSTBRIDGE = str(REPO / ".venv" / "bin" / "costbridge")
SCENARIOS = ("sigkill", "redis-flush", "no-requestid")
#: Seconds of killing; afterwards the run must recover on its own (leases, sweeper, retries).
KILL_FOR = 20.0


class Worker:
    """One `costbridge worker` subprocess, restartable."""

    def __init__(self, env: dict[str, str], name: str, log: Path) -> None:
        self.env, self.name, self.log = env, name, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own command
                [
                    COSTBRIDGE,
                    "worker",
                    "--sweep-every",
                    "2",
                    "--name",
                    f"{self.name}-{self.starts}",
                ],
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def children(self) -> list[int]:
        """The worker's child processes: its work horse (if one runs) and its scheduler."""
        if self.proc is None:
            return []
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def horses(self) -> list[int]:
        """The work horses sending jobs: children in a process group of their own (RQ's
        `setpgrp`); the scheduler child stays in the worker's group."""
        out = []
        for pid in self.children():
            with contextlib.suppress(ProcessLookupError):
                if os.getpgid(pid) == pid:
                    out.append(pid)
        return out

    def kill(self, rng: random.Random) -> str:
        """SIGKILL the work-horse (when one runs and the dice say so) or the whole worker.

        A whole worker goes with every child, the horse that is sending included: killing only
        the worker's process group would leave the horse (its own group) to finish the push.
        """
        horses = self.horses()
        if horses and rng.random() < 0.5:
            with contextlib.suppress(ProcessLookupError):
                os.kill(horses[0], signal.SIGKILL)
            return "horse"
        assert self.proc is not None
        for pid in [*self.children(), self.proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        self.start()
        return "worker"

    def stop(self) -> None:
        if self.proc is None:
            return
        for pid in [*self.children(), self.proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()


def _schema() -> tuple[str, Any]:
    base = postgres_url_from_env()
    schema = f"crash_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(private_schema_url(base, "public"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = private_schema_url(base, schema)
    engine = make_engine(url)
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)

    def drop() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return url, (engine, drop)


def run(scenario: str, bills: int, seed: int, work: Path, timeout: float) -> dict[str, Any]:
    """One scenario from an empty database, Redis and sandbox company; its figures."""
    rng = random.Random(seed)
    url, (engine, drop) = _schema()
    registry = Redis.from_url(f"{TEST_REDIS_BASE}/{REDIS_REGISTRY_DB}")
    owner = f"crash-{os.getpid()}-{uuid.uuid4().hex}"
    index = claim_redis_db(registry, owner)
    if index is None:
        raise SystemExit("crash test: every test Redis database is in use")
    redis_url = f"{TEST_REDIS_BASE}/{index}"
    server = start_sandbox(seed="none")
    workers: list[Worker] = []
    try:
        instance = work / scenario
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("COSTBRIDGE_", "QBO_"))},
            "COSTBRIDGE_ENV": "test",
            "COSTBRIDGE_INSTANCE": str(instance),
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "crash-test-secret-key",
            "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY,
            "QBO_API_BASE": server.url,
            "QBO_DISCOVERY_URL": f"{server.url}/.well-known/openid_sandbox_configuration",
            "QBO_CLIENT_ID": CLIENT_ID,
            "QBO_CLIENT_SECRET": CLIENT_SECRET,
            "QBO_REDIRECT_URI": REDIRECT_URI,
            "QBO_WEBHOOK_VERIFIER": "crash-test-verifier",
            # Two batch calls a minute: the rest go as single creates, so the run lasts long
            # enough for the kills to land in every phase of both kinds of send.
            "QBO_BATCH_PER_MINUTE": "2",
        }
        settings = sandbox_settings(
            Settings.from_env({k: v for k, v in env.items() if k.isupper()}), server.url
        )
        redis = Redis.from_url(redis_url)
        redis.flushdb()
        rt = Runtime(settings=settings, engine=engine, pm=make_plugin_manager())
        runtime_mod.install(rt)
        control = Control(server.url)
        hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id
        control.seed("empty", realm_id=hint)
        with rt.sessions() as session:
            company = Company(name="Crash Test Builders")
            session.add(company)
            session.commit()
            company_id = company.id
        realm = connect_company(settings, rt.sessions, company_id, realm_hint=hint)
        with rt.sessions() as session:
            books = make_books(rt, realm, company_id, session)
            project = Project(company_id=company_id, name="Crash Street")
            project.qbo_customer_id = books.customer_id
            project.settings = {"push_bills": True, "default_billing_cost_code": books.framing.id}
            session.add(project)
            session.flush()
            recorded = []
            for n in range(bills):
                _bill, entries = records.create_bill(
                    session,
                    rt.pm,
                    project,
                    vendor=books.vendor,
                    bill_date=dt.date(2026, 3, 2),
                    number=f"CR-{n:04d}",
                    lines=[LineInput(Decimal(100 + n) / 100, books.concrete.id)],
                )
                recorded += entries
            session.commit()
        queueing.enqueue_recorded(rt, recorded)
        if scenario == "no-requestid":
            control.honour_request_ids(False)
        # QBO commits, then answers late: a kill often lands between send and answer.
        control.faults(
            latency_ms=400, fraction=0.6, phase="after", paths=["bill", "batch"], seed=seed
        )
        for n in range(2):
            worker = Worker(env, f"crash-{scenario}-{n}", work / f"{scenario}-worker-{n}.log")
            worker.start()
            workers.append(worker)
        started = time.monotonic()
        kills: collections.Counter[str] = collections.Counter()
        flushed = scenario != "redis-flush"
        done = 0
        while time.monotonic() - started < timeout:
            time.sleep(rng.uniform(1.5, 3.0) if time.monotonic() - started < KILL_FOR else 0.5)
            done = _done(rt)
            if done == bills:
                break
            if not flushed and done >= bills // 4:
                redis.flushdb()
                flushed = True
                kills["redis-flush"] += 1
                continue
            if time.monotonic() - started < KILL_FOR:
                kills[rng.choice(workers).kill(rng)] += 1
        seconds = time.monotonic() - started
        for worker in workers:
            worker.stop()
        control.clear_faults()
        raw = requests.get(
            f"{server.url}/_sandbox/state", params={"realm": realm, "entity": "Bill"}, timeout=30
        ).json()["entities"]["Bill"]
        with rt.sessions() as session:
            keys = {
                e.local_id: marker(e.idempotency_key)
                for e in session.scalars(
                    select(OutboxEntry).where(OutboxEntry.local_kind == "bill")
                )
            }
            states = collections.Counter(
                s.value for s in session.scalars(select(OutboxEntry.state))
            )
            stuck = [
                f"#{e.id} {e.state.value} attempts={e.attempts} by={e.claimed_by} "
                f"lease={e.lease_until} error={e.last_error}"
                for e in session.scalars(
                    select(OutboxEntry).where(OutboxEntry.state != OutboxState.DONE)
                )
            ]
        per_key = collections.Counter(
            key for bill in raw for key in keys.values() if key in str(bill.get("PrivateNote", ""))
        )
        duplicates = sum(n - 1 for n in per_key.values() if n > 1)
        lost = sum(1 for key in keys.values() if per_key.get(key, 0) == 0)
        # The sandbox's request log: every query the run sent, refused ones with their Fault.
        # The sandbox is as strict as Intuit, so a refused query is one Intuit would refuse.
        sent = control.queries(realm)
        refused = [q["query"] for q in sent if q["refused"] or "PrivateNote" in q["query"]]
        lookups = sum(
            1 for q in sent if q["query"].startswith("SELECT * FROM Bill WHERE VendorRef")
        )
        return {
            "scenario": scenario,
            "bills": bills,
            "qbo_bills": len(raw),
            "duplicates": duplicates,
            "lost": lost,
            "not_done": bills - states.get(OutboxState.DONE.value, 0),
            "kills": sum(v for k, v in kills.items() if k != "redis-flush"),
            "horse_kills": kills["horse"],
            "worker_kills": kills["worker"],
            "seconds": round(seconds, 1),
            "done": done,
            "stuck": stuck,
            "queries": len(sent),
            "lookups": lookups,
            "refused": refused,
        }
    finally:
        for worker in workers:
            worker.stop()
        runtime_mod.install(None)
        server.stop()
        Redis.from_url(redis_url).flushdb()
        if registry.get(redis_lease(index)) == owner.encode():
            registry.delete(redis_lease(index))
        registry.close()
        drop()


def _done(rt: Runtime) -> int:
    with rt.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.state == OutboxState.DONE)
            )
            or 0
        )


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios; exit 1 when any of them lost or duplicated a bill."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], default=[])
    parser.add_argument("--bills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--timeout", type=float, default=100.0)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "costbridge-crash"
    )
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    failed = False
    for scenario in args.scenarios or SCENARIOS:
        r = run(scenario, args.bills, args.seed, args.work, args.timeout)
        ok = r["qbo_bills"] == r["bills"] and r["duplicates"] == 0 and r["lost"] == 0
        ok = ok and r["not_done"] == 0 and not r["refused"]
        failed |= not ok
        print(  # noqa: T201 - the report
            f"{scenario}: bills={r['bills']} qbo_bills={r['qbo_bills']} "
            f"duplicates={r['duplicates']} lost={r['lost']} not_done={r['not_done']} "
            f"kills={r['kills']} (horse={r['horse_kills']} worker={r['worker_kills']}) "
            f"lookups={r['lookups']} refused_queries={len(r['refused'])} "
            f"seconds={r['seconds']}" + ("" if ok else "  FAILED"),
            flush=True,
        )
        for line in r["stuck"][:10]:
            print(f"  stuck: {line}")  # noqa: T201 - the report
        for query in r["refused"][:10]:
            print(f"  refused query: {query}")  # noqa: T201 - the report
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
