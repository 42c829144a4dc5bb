"""Push: 1,000 bills via the outbox, RQ worker processes and batches vs a python-quickbooks loop.

Issue 12's goals: at least 90% of QBO's throttle-limited ceiling, zero 429s, and at least 2.5x
the bills per minute of the loop a user would write with python-quickbooks (one `save()` per
bill, sleeping on a 429 as Intuit advises: 60 s, no Retry-After).

QBO's real limits are enforced by the sandbox (a `sandbox` subprocess of its own) and by
costbridge's Redis throttle alike: per realm 500 requests, 40 batch calls and 10 in flight,
per sliding minute. At those numbers 1,000 bills are 34 batch calls, which fit in one minute's
budget: the ceiling would never be reached. So they are time-scaled: every budget /5 and the
window /10 (100 requests and 8 batch calls per 6 s window, still 10 in flight; the naive loop's
60 s wait becomes 6 s). Every rate is then 2x QBO's, and 1,000 bills cross as many windows as
5,000 would against QBO. Figures are printed as "QBO-equivalent" bills per minute (measured / 2).

The ceiling is the fastest the sandbox's sliding windows let N creates through starting from
empty windows, with the client's kind of requests: ceil(N / budget) - 1 windows, the budget
being, for costbridge, 8 batches x 30 bills plus the 92 requests the batches leave as single
creates (332 bills; QBO: 1,660 a minute), and 100 single creates for the loop (stricter than
the steady rates, because the first window is free).

costbridge's side is its real path: the bench process records each bill with
`core.push.records.create_bill` (25 per transaction, as an import would) and queues the recorded
pushes after each commit (`enqueue_recorded`); `BENCH_PUSH_WORKERS` (default 4) spawned processes
each run `core.jobs.worker.run_worker` on the push queue, whose jobs claim up to 30 fresh creates
and send them as one QBO batch; the clock stops when every outbox row is done. The loop runs
afterwards (not at the same time: this machine has 2 cores) on a second realm of the same
sandbox, in a spawned process, connected through the sandbox's consent screen with
intuit-oauth. Requests and 429s are the sandbox's counts per realm.

`BENCH_PUSH_PROFILE=path` cProfiles one worker process (`path.<pid>`) and prints its top costs.
Uses the test PostgreSQL in a private schema and Redis database 13 (`bench_environment` of
`bench refresh`). Run from the checkout: `.venv/bin/python -m bench push`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import multiprocessing
import os
import pstats
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy import select

from bench.bench_refresh import bench_environment
from core.config import Settings
from costbridge_testing.sandbox import CLIENT_ID
from costbridge_testing.sandbox import CLIENT_SECRET
from costbridge_testing.sandbox import REDIRECT_URI
from costbridge_testing.sandbox import Control
from costbridge_testing.sandbox import connect_company
from costbridge_testing.sandbox import sandbox_settings

BILLS = int(os.environ.get("BENCH_PUSH_BILLS", "1000"))
WORKERS = int(os.environ.get("BENCH_PUSH_WORKERS", "4"))
PROFILE = os.environ.get("BENCH_PUSH_PROFILE", "")
COUNT_SCALE = 5  # every per-window budget divided by this
TIME_SCALE = 10  # the window (and the loop's 429 wait) divided by this
RATE_SCALE = TIME_SCALE / COUNT_SCALE  # measured rates are this many times QBO's
WINDOW = 60.0 / TIME_SCALE
PER_WINDOW = 500 // COUNT_SCALE
BATCHES = 40 // COUNT_SCALE
CONCURRENT = 10
BATCH_SIZE = 30
NAIVE_WAIT = 60.0 / TIME_SCALE
CHUNK = 25  # bills recorded per transaction
DEADLINE = 150.0  # seconds either side may take before the bench gives up on it


@dataclass(frozen=True)
class Books:
    """One connected company, its project and what its bills are made of."""

    company_id: int
    realm: str
    project_id: int
    vendor_id: int
    code_id: int
    qbo_vendor: str
    qbo_item: str
    qbo_customer: str


@dataclass
class Side:
    """What one side measured."""

    label: str
    bills: int
    seconds: float
    requests: int
    throttled: int
    budget: int  # bills the client's kind of request carries per window
    note: str = ""

    @property
    def per_minute(self) -> float:
        return self.bills / self.seconds * 60 / RATE_SCALE

    @property
    def ceiling_seconds(self) -> float:
        return WINDOW * (math.ceil(self.bills / self.budget) - 1)

    @property
    def ceiling_per_minute(self) -> float:
        return self.bills / max(self.ceiling_seconds, 1e-9) * 60 / RATE_SCALE


# -- the sandbox, in a process of its own, with its window scaled --------------------------------

_SANDBOX = """
import sys
from datetime import timedelta
import sandbox.throttle
sandbox.throttle.WINDOW = timedelta(seconds=float(sys.argv[1]))
from sandbox.server import serve_forever
serve_forever(host="127.0.0.1", port=0, seed="none")
"""


@contextmanager
def _sandbox() -> Iterator[str]:
    with tempfile.NamedTemporaryFile(prefix="bench-push-sandbox-", suffix=".log") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and sandbox
            [sys.executable, "-c", _SANDBOX, str(WINDOW)], stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for line in Path(out.name).read_text().splitlines():
                    if "listening on " in line:
                        url = line.split("listening on ", 1)[1].split()[0]
                        Control(url).register_redirect_uri(REDIRECT_URI)  # matched exactly
                        yield url
                        return
                if proc.poll() is not None:
                    raise RuntimeError(f"the sandbox exited: {Path(out.name).read_text()[-2000:]}")
                time.sleep(0.05)
            raise RuntimeError("the sandbox did not start")
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _throttle(ctl: Control, *, enabled: bool = True) -> None:
    ctl.throttle(
        per_minute=PER_WINDOW,
        concurrent=CONCURRENT,
        batch_per_minute=BATCHES,
        enabled=enabled,
        reset=True,
    )


def _limits() -> Any:
    from core.qbo.throttle import Limits

    return Limits(
        per_minute=PER_WINDOW,
        in_flight=CONCURRENT,
        batch_per_minute=BATCHES,
        window_ms=int(WINDOW * 1000),
    )


# -- setting up a company to push into -----------------------------------------------------------


def _books(rt: Any, ctl: Control, name: str) -> Books:
    """A company connected to a fresh realm with a vendor, a customer and a usable item."""
    from core.catalog_import import import_cost_codes
    from core.catalog_import import import_vendors
    from core.models import Company
    from core.models import CostCode
    from core.models import Project
    from core.models import Vendor
    from core.project_settings import save_settings
    from core.qbo import client_for
    from core.qbo import queries

    with rt.sessions() as s, s.begin():
        company = Company(name=name)
        s.add(company)
        s.flush()
        company_id = company.id
    hint = str(random.randrange(10**15, 10**16))
    ctl.seed("empty", realm_id=hint)
    realm = connect_company(rt.settings, rt.sessions, company_id, realm_hint=hint)
    client = client_for(rt, realm)

    def account(kind: str) -> str:
        rows = client.query(queries.select("Account", queries.eq("AccountType", kind)))["Account"]
        return str(rows[0]["Id"])

    item = {
        "Name": "Framing",
        "Type": "Service",
        "IncomeAccountRef": {"value": account("Income")},
        "ExpenseAccountRef": {"value": account("Cost of Goods Sold")},
    }
    qbo_item = str(client.create("Item", item, request_id=uuid.uuid4().hex)["Id"])
    qbo_vendor = str(
        client.create("Vendor", {"DisplayName": "Hillside Lumber"}, request_id=uuid.uuid4().hex)[
            "Id"
        ]
    )
    customer = client.create("Customer", {"DisplayName": "Maple St"}, request_id=uuid.uuid4().hex)
    with rt.sessions() as s:
        import_vendors(s, client, company_id)
        import_cost_codes(s, client, company_id)
        code = s.scalars(select(CostCode).where(CostCode.company_id == company_id)).one()
        project = Project(
            company_id=company_id,
            name="Maple Street Remodel",
            qbo_customer_id=str(customer["Id"]),
            qbo_customer_name="Maple St",
            settings={},
        )
        s.add(project)
        s.flush()
        wanted = {"push_bills": True, "default_billing_cost_code": code.id}
        problems = save_settings(rt.pm, s, project, wanted, changed_by="bench")
        assert not problems, problems
        vendor = s.scalars(select(Vendor).where(Vendor.company_id == company_id)).one()
        s.commit()
        return Books(
            company_id,
            realm,
            project.id,
            vendor.id,
            code.id,
            qbo_vendor,
            qbo_item,
            str(customer["Id"]),
        )


# -- costbridge: record, queue, RQ worker processes, batches -------------------------------------


def _worker_child(settings: Settings, profile: str, ready: Any) -> None:
    """One `costbridge worker` process on the push queue, with the bench's scaled limits."""
    logging.disable(logging.WARNING)
    from core.jobs import queues
    from core.jobs.worker import run_worker
    from core.qbo.throttle import Limits
    from core.runtime import Runtime

    scaled = _limits()
    Limits.from_settings = classmethod(lambda cls, _settings: scaled)  # type: ignore[method-assign,assignment]
    rt = Runtime.build(settings)
    ready.put(os.getpid())

    def work() -> None:
        run_worker(rt, [queues.PUSH], burst=False, name=None, sweep_every=0)

    if not profile:
        work()
        return
    import cProfile

    profiler = cProfile.Profile()
    try:
        profiler.runcall(work)
    finally:
        profiler.dump_stats(f"{profile}.{os.getpid()}")


def _costbridge(rt: Any, ctl: Control, books: Books) -> Side:
    from core.models import Bill
    from core.models import OutboxEntry
    from core.models import OutboxState
    from core.models import Project
    from core.models import Vendor
    from core.push.queueing import enqueue_recorded
    from core.push.records import LineInput
    from core.push.records import create_bill
    from core.qbo.throttle import RealmThrottle

    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Queue()
    procs = []
    for n in range(WORKERS):
        profile = PROFILE if PROFILE and n == 0 else ""
        proc = spawn.Process(target=_worker_child, args=(rt.settings, profile, ready))
        proc.start()
        procs.append(proc)
    for _ in procs:
        ready.get(timeout=60)
    time.sleep(1.0)  # let each worker reach its first Redis poll
    RealmThrottle(rt.redis, _limits()).reset(books.realm)
    _throttle(ctl)
    recorder = None
    if PROFILE:
        import cProfile

        recorder = cProfile.Profile()
        recorder.enable()
    started = time.perf_counter()
    try:
        with rt.sessions() as s:
            project = s.get(Project, books.project_id)
            vendor = s.get(Vendor, books.vendor_id)
            for first in range(0, BILLS, CHUNK):
                entries = []
                for n in range(first, min(first + CHUNK, BILLS)):
                    _bill, recorded = create_bill(
                        s,
                        rt.pm,
                        project,
                        vendor=vendor,
                        bill_date=dt.date(2026, 3, 2),
                        number=f"B-{n}",
                        lines=[LineInput(Decimal(100 + n % 900) + Decimal("0.25"), books.code_id)],
                    )
                    entries += recorded
                s.commit()
                enqueue_recorded(rt, entries)
            recorded_in = time.perf_counter() - started
            if recorder is not None:
                recorder.disable()
                recorder.dump_stats(f"{PROFILE}.recording")
            states: dict[Any, int] = {}
            while time.perf_counter() - started < DEADLINE:
                states = dict(
                    s.execute(
                        select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)
                    ).all()
                )
                s.rollback()
                if states.get(OutboxState.DONE, 0) >= BILLS or not (
                    set(states) & {OutboxState.PENDING, OutboxState.IN_FLIGHT, OutboxState.UNKNOWN}
                ):
                    break
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            stats = ctl.throttle_stats()["realms"].get(books.realm, {})
            bills_here = s.scalar(select(func.count()).select_from(Bill))
    finally:
        for proc in procs:
            if proc.pid is not None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    done = states.get(OutboxState.DONE, 0)
    shown = ", ".join(f"{k.value} {v}" for k, v in sorted(states.items()))
    return Side(
        "costbridge (outbox + RQ + batches)",
        done,
        seconds,
        int(stats.get("requests_total", 0)),
        int(stats.get("throttled", 0)),
        BATCHES * BATCH_SIZE + PER_WINDOW - BATCHES,
        note=f"{WORKERS} worker processes; {bills_here} bills recorded in {recorded_in:.1f} s; "
        f"outbox: {shown}",
    )


# -- the naive python-quickbooks loop ------------------------------------------------------------


def _naive_child(base_url: str, books: Books, results: Any) -> None:
    """One `Bill.save()` per bill; on a 429, wait (Intuit: 60 s, scaled) and save it again."""
    import requests
    from intuitlib.client import AuthClient
    from intuitlib.enums import Scopes
    from quickbooks import QuickBooks
    from quickbooks.exceptions import QuickbooksException
    from quickbooks.objects.base import Ref
    from quickbooks.objects.bill import Bill
    from quickbooks.objects.detailline import ItemBasedExpenseLine
    from quickbooks.objects.detailline import ItemBasedExpenseLineDetail

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the sandbox is loopback-only http
    auth = AuthClient(
        CLIENT_ID,
        CLIENT_SECRET,
        REDIRECT_URI,
        f"{base_url}/.well-known/openid_sandbox_configuration/",
    )
    consent = requests.get(
        auth.get_authorization_url([Scopes.ACCOUNTING]) + f"&realm_hint={books.realm}",
        allow_redirects=False,
        timeout=30,
    )
    from urllib.parse import parse_qs
    from urllib.parse import urlsplit

    query = parse_qs(urlsplit(consent.headers["Location"]).query)
    auth.get_bearer_token(query["code"][0], realm_id=query["realmId"][0])
    qb = QuickBooks(
        auth_client=auth,
        refresh_token=auth.refresh_token,
        company_id=books.realm,
        minorversion=75,
        environment="sandbox",
    )
    qb.sandbox_api_url_v3 = qb.api_url_v3 = f"{base_url}/v3"
    statuses: list[int] = []
    sent = qb.process_request

    def counted(*args: Any, **kwargs: Any) -> Any:
        resp = sent(*args, **kwargs)
        statuses.append(resp.status_code)
        return resp

    qb.process_request = counted
    results.put("ready")
    results.get()  # go
    started = time.perf_counter()
    saved = 0
    for n in range(BILLS):
        bill = Bill()
        bill.VendorRef = Ref()
        bill.VendorRef.value = books.qbo_vendor
        bill.TxnDate = "2026-03-02"
        bill.DocNumber = f"N-{n}"
        line = ItemBasedExpenseLine()
        line.Amount = float(Decimal(100 + n % 900) + Decimal("0.25"))
        line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
        line.ItemBasedExpenseLineDetail.ItemRef = Ref()
        line.ItemBasedExpenseLineDetail.ItemRef.value = books.qbo_item
        line.ItemBasedExpenseLineDetail.CustomerRef = Ref()
        line.ItemBasedExpenseLineDetail.CustomerRef.value = books.qbo_customer
        line.ItemBasedExpenseLineDetail.BillableStatus = "Billable"
        line.ItemBasedExpenseLineDetail.Qty = 1
        line.ItemBasedExpenseLineDetail.UnitPrice = line.Amount
        bill.Line = [line]
        request_id = uuid.uuid4().hex
        while time.perf_counter() - started < DEADLINE:
            try:
                bill.save(qb=qb, request_id=request_id)
            except QuickbooksException:
                if statuses and statuses[-1] == 429:
                    time.sleep(NAIVE_WAIT)
                    continue
                results.put({"error": traceback.format_exc()})
                raise
            saved += 1
            break
    results.put(
        {
            "bills": saved,
            "seconds": time.perf_counter() - started,
            "requests": len(statuses),
            "throttled": statuses.count(429),
        }
    )


def _naive(ctl: Control, url: str, books: Books) -> Side:
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    proc = spawn.Process(target=_naive_child, args=(url, books, results))
    proc.start()
    try:
        assert results.get(timeout=60) == "ready"
        _throttle(ctl)
        results.put("go")
        time.sleep(0.2)  # the child takes "go" before it puts its figures
        got = results.get(timeout=DEADLINE + 30)
        if "error" in got:
            raise RuntimeError(f"the python-quickbooks loop failed: {got['error']}")
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
    stats = ctl.throttle_stats()["realms"].get(books.realm, {})
    return Side(
        "python-quickbooks loop (save() each)",
        int(got["bills"]),
        float(got["seconds"]),
        int(stats.get("requests_total", got["requests"])),
        int(stats.get("throttled", got["throttled"])),
        PER_WINDOW,
        note=f"{got['throttled']} 429 answers seen by the loop, each followed by "
        f"a {NAIVE_WAIT:g} s wait",
    )


# -- figures -------------------------------------------------------------------------------------


def _show(side: Side) -> Side:
    print(
        f"{side.label:<38} {side.bills:>5} bills in {side.seconds:6.1f} s: "
        f"{side.per_minute:7.0f} bills/min, {side.requests / max(side.bills, 1):.3f} "
        f"requests/bill ({side.requests} requests), 429s {side.throttled}"
    )
    print(
        f"{'':<38} ceiling {side.ceiling_per_minute:.0f} bills/min "
        f"({side.ceiling_seconds:.0f} s for {side.bills}): "
        f"{side.per_minute / side.ceiling_per_minute:.0%}; {side.note}",
        flush=True,
    )
    return side


def main() -> None:
    """Push BILLS bills both ways against the throttled sandbox and print the figures."""
    from core.plugins import make_plugin_manager
    from core.runtime import Runtime

    logging.getLogger("core").setLevel(logging.ERROR)
    with bench_environment("push") as (base, engine, _sessions, _redis), _sandbox() as url:
        settings = sandbox_settings(base, url)
        rt = Runtime(settings=settings, engine=engine, pm=make_plugin_manager())
        ctl = Control(url)
        _throttle(ctl, enabled=False)
        ours = _books(rt, ctl, "Costbridge push")
        theirs = _books(rt, ctl, "Naive loop")
        print(
            f"time-scaled QBO throttle: {PER_WINDOW} requests, {BATCHES} batch calls per "
            f"{WINDOW:g} s window, {CONCURRENT} in flight (QBO: 500, 40 per 60 s, 10; rates here "
            f"x{RATE_SCALE:g}; bills/min below are QBO-equivalent)",
            flush=True,
        )
        try:
            cb = _show(_costbridge(rt, ctl, ours))
            naive = _show(_naive(ctl, url, theirs))
        finally:
            rt.redis.close()
    ratio = cb.per_minute / naive.per_minute if naive.per_minute else float("inf")
    share = cb.per_minute / cb.ceiling_per_minute
    print(
        f"goals: costbridge at {share:.0%} of its ceiling (>= 90%: "
        f"{'met' if share >= 0.9 else 'MISSED'}), 429s {cb.throttled} (0: "
        f"{'met' if cb.throttled == 0 else 'MISSED'}), {ratio:.2f}x the loop (>= 2.5x: "
        f"{'met' if ratio >= 2.5 else 'MISSED'}), {cb.requests / max(cb.bills, 1):.3f} "
        f"requests per bill (loop: {naive.requests / max(naive.bills, 1):.3f})"
    )
    if PROFILE:
        for path in sorted(Path(PROFILE).parent.glob(Path(PROFILE).name + ".*")):
            stats = pstats.Stats(str(path))
            print(f"-- profile {path.name}")
            stats.sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
