"""429 storm, then 20% 503s: in-flight and rate seen by QBO, failures, retries, extra latency.

RELIABILITY.md §3 recipe 4, scaled to the bench. Two variants run side by side, each on its own
sandbox realm (QBO's limits are per realm) with its own 8 worker threads:

- "no Retry-After", as real QBO answers (API.md §9); the client's wait after a 429 is its
  `throttle_wait` argument (60 s in production, 0.5 s here), doubling per repeat up to 8x;
- "Retry-After: 2", for a gateway that does send one.

Timeline (sandbox chaos rules chained with `for_seconds` + `append`, per realm): 8 s clean (the
baseline), 20 s where every API request gets 429, then 12 s where 20% get 503, half of them
*after* the request ran (the answer lost, a write committed); every answer takes 30 ms
throughout, so requests overlap as they do against QBO. A producer offers 12 logical
operations a second per realm (720/min, more than QBO's 500/min budget, as a busy sync does) to
a job queue; 8 threads take jobs and run them through `QboClient` with the shared Redis throttle
(500/min, 4 in flight; the sandbox enforces QBO's 500/min and 10 in flight). Operations: 40%
create a Bill (stable `requestid`, our tag in `PrivateNote`), 30% read a Bill made earlier, 30%
query. A job that ends in `TryLater` is re-run like an RQ `Retry(max=5, interval=[1, 2, 4, 8,
16])`; anything else, or running out of re-runs, is a permanent failure.

Printed per variant: operations and permanent failures (target 0); Bills in the realm vs
logical creates (target equal: `requestid` replays, no duplicates); retries (429 and 5xx answers
re-sent, job re-runs) and the shortest gap a thread left after a 429 before sending again; the
sandbox's peak in flight for the realm (<= our cap of 4) and peak requests in any 60 s window
(admitted, <= 500; and all requests including refused ones), and its own limiter's 429s
(target 0); latency p50/p95 per phase and the p95 extra over the clean baseline.

Uses the test PostgreSQL in a private schema dropped afterwards and Redis database 13, flushed
before and after (see bench_refresh). Run: `.venv/bin/python -m bench storm` from the checkout.
"""

from __future__ import annotations

import logging
import queue
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

import requests
from redis import Redis

from bench.bench_refresh import bench_environment
from bench.bench_refresh import connect_new_company
from core.crypto import TokenVault
from core.errors import TryLater
from core.qbo.client import QboClient
from core.qbo.custody import TokenManager
from core.qbo.oauth_config import OAuthConfig
from core.qbo.throttle import Limits
from core.qbo.throttle import RealmThrottle
from costbridge_testing.sandbox import Control
from costbridge_testing.sandbox import sandbox_settings
from costbridge_testing.sandbox import start_sandbox

THREADS = 8
RATE = 12.0  # logical operations offered per second per realm
CLEAN, STORM, FLAKY = 8.0, 20.0, 12.0  # seconds: baseline, all-429, 20% 503
DRAIN_LIMIT = 60.0  # seconds allowed after the producer stops
CLIENT_LIMITS = Limits(per_minute=500, in_flight=4, batch_per_minute=40)
LATENCY_MS = 30  # every answer takes this long, as QBO's do, so requests overlap
THROTTLE_WAIT = 0.5  # the client's 429 wait without Retry-After (production: 60 s)
JOB_RETRY_INTERVALS = (1.0, 2.0, 4.0, 8.0, 16.0)
VARIANTS = (("no Retry-After (as QBO)", None), ("Retry-After: 2", 2))


class _CountingSession(requests.Session):
    """A requests session noting each answer's status and when the next request left."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: Counter[int] = Counter()
        self.last_429_at: float | None = None
        self.min_gap_after_429: float | None = None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        sent = time.monotonic()
        if self.last_429_at is not None:
            gap = sent - self.last_429_at
            if self.min_gap_after_429 is None or gap < self.min_gap_after_429:
                self.min_gap_after_429 = gap
            self.last_429_at = None
        resp = super().request(method, url, *args, **kwargs)
        self.statuses[resp.status_code] += 1
        if resp.status_code == 429:
            self.last_429_at = time.monotonic()
        return resp


@dataclass
class _Op:
    n: int
    kind: str
    queued_at: float


@dataclass
class _Done:
    kind: str
    phase: str
    seconds: float
    queued_phase: str
    end_to_end: float
    ok: bool
    reruns: int
    error: str = ""


@dataclass
class _Variant:
    label: str
    retry_after: int | None
    realm: str
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    jobs: queue.Queue[_Op | None] = field(default_factory=queue.Queue)
    done: list[_Done] = field(default_factory=list)
    bills: list[str] = field(default_factory=list)
    sessions: list[_CountingSession] = field(default_factory=list)
    produced: int = 0
    creates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # t, admitted, all
    finished_at: float = 0.0


def _phase(t: float) -> str:
    if t < CLEAN:
        return "clean"
    if t < CLEAN + STORM:
        return "429"
    if t < CLEAN + STORM + FLAKY:
        return "503"
    return "drain"


def _install_faults(ctl: Control, variants: list[_Variant]) -> None:
    """Per realm: all 429 for STORM s, then 20% 503 (half after the request ran) for FLAKY s.

    Replaces the latency-only rule of the clean phase and appends it again last, so requests
    that no fault hits still take LATENCY_MS.
    """
    first = True
    for v in variants:
        storm: dict[str, Any] = {"status": 429, "realm_id": v.realm, "for_seconds": STORM}
        if v.retry_after is not None:
            storm["retry_after"] = v.retry_after
        ctl.faults(**storm, append=not first)
        first = False
    for v in variants:
        until = STORM + FLAKY
        # Rules are tried in order and the first that fires wins: 10% before, then 1/9 of the
        # remaining 90% after the request ran, 20% in all.
        ctl.faults(
            status=503, fraction=0.1, seed=11, realm_id=v.realm, for_seconds=until, append=True
        )
        ctl.faults(
            status=503,
            fraction=1 / 9,
            seed=12,
            phase="after",
            realm_id=v.realm,
            for_seconds=until,
            append=True,
        )
    ctl.faults(latency_ms=LATENCY_MS, append=True)


def _work(v: _Variant, tokens: TokenManager, redis: Redis, base: str, t0: float, body: Any) -> None:
    http = _CountingSession()
    with v.lock:
        v.sessions.append(http)
    client = QboClient(
        v.realm,
        tokens,
        base_url=base,
        throttle=RealmThrottle(redis, CLIENT_LIMITS),
        http=http,
        throttle_wait=THROTTLE_WAIT,
    )
    while True:
        op = v.jobs.get()
        if op is None:
            return
        picked = time.monotonic()
        request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{v.tag}:{op.n}"))
        reruns, ok, error = 0, False, ""
        while True:
            try:
                if op.kind == "create":
                    bill = client.create("Bill", body(f"{v.tag} #{op.n}"), request_id=request_id)
                    with v.lock:
                        v.bills.append(str(bill["Id"]))
                elif op.kind == "read":
                    with v.lock:
                        bill_id = random.choice(v.bills) if v.bills else None
                    if bill_id is None:
                        client.company_info()
                    else:
                        client.read("Bill", bill_id)
                else:
                    client.query("SELECT * FROM Vendor MAXRESULTS 10")
                ok = True
                break
            except TryLater as exc:
                if reruns >= len(JOB_RETRY_INTERVALS):
                    error = f"{type(exc).__name__} after {reruns} re-runs"
                    break
                time.sleep(JOB_RETRY_INTERVALS[reruns])
                reruns += 1
            except Exception as exc:  # a permanent failure, counted
                error = f"{type(exc).__name__}: {exc}"
                break
        with v.lock:
            now = time.monotonic()
            v.done.append(
                _Done(
                    op.kind,
                    _phase(picked - t0),
                    now - picked,
                    _phase(op.queued_at - t0),
                    now - op.queued_at,
                    ok,
                    reruns,
                    error,
                )
            )
            v.finished_at = max(v.finished_at, time.monotonic() - t0)


def _produce(v: _Variant, t0: float) -> None:
    n = 0
    end = CLEAN + STORM + FLAKY
    while True:
        due = t0 + n / RATE
        if due - t0 >= end:
            break
        time.sleep(max(0.0, due - time.monotonic()))
        roll = random.random()
        kind = "create" if roll < 0.4 else "read" if roll < 0.7 else "query"
        with v.lock:
            v.produced += 1
            v.creates += kind == "create"
        v.jobs.put(_Op(n, kind, time.monotonic()))
        n += 1
    for _ in range(THREADS):
        v.jobs.put(None)


def _monitor(ctl: Control, variants: list[_Variant], t0: float, stop: threading.Event) -> None:
    while not stop.is_set():
        realms = ctl.throttle_stats()["realms"]
        counters = ctl.counters()
        now = time.monotonic() - t0
        for v in variants:
            stats = realms.get(v.realm, {})
            v.samples.append(
                (
                    now,
                    int(stats.get("requests_current_minute", 0)),
                    int(counters.get(f"requests:{v.realm}", 0)),
                )
            )
        stop.wait(0.25)


def _peak_all(samples: list[tuple[float, int, int]]) -> int:
    """Most requests (refused ones included) the sandbox saw in any 60 s window sampled.

    The first sample is taken as the run starts, so windows ending before 60 s count from it.
    """
    peak, j = 0, 0
    for t, _, total in samples:
        while samples[j][0] < t - 60:
            j += 1
        peak = max(peak, total - samples[j][2])
    return peak


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    """Run both variants side by side and print their figures."""
    logging.getLogger("core").setLevel(logging.ERROR)
    server = start_sandbox(seed="none")
    ctl = Control(server.url)
    try:
        with bench_environment("storm") as (base_settings, _engine, sessions, redis):
            settings = sandbox_settings(base_settings, server.url)
            ctl.clear_faults()
            ctl.throttle(
                per_minute=500, concurrent=10, batch_per_minute=40, enabled=True, reset=True
            )
            tokens = TokenManager(
                sessions,
                redis,
                TokenVault(settings.token_keys),
                OAuthConfig.from_settings(settings),
            )
            variants: list[_Variant] = []
            bodies = {}
            for label, retry_after in VARIANTS:
                _, realm = connect_new_company(settings, sessions, f"Storm Builders {label}")
                setup = QboClient(realm, tokens, base_url=server.url)
                vendor = setup.create(
                    "Vendor", {"DisplayName": "Storm Lumber"}, request_id=f"storm-vendor-{realm}"
                )["Id"]
                account = setup.query(
                    "SELECT * FROM Account WHERE AccountType = 'Cost of Goods Sold' MAXRESULTS 1"
                )["Account"][0]["Id"]
                bodies[realm] = _bill_body(str(vendor), str(account))
                variants.append(_Variant(label, retry_after, realm))
            ctl.throttle(reset=True)
            ctl.faults(latency_ms=LATENCY_MS)
            _run(ctl, variants, tokens, redis, server.url, bodies)
            rules = ctl.http.get(f"{ctl.base}/faults", timeout=10).json()["rules"]
            ctl.clear_faults()
            for v in variants:
                _report(ctl, v, rules)
    finally:
        ctl.clear_faults()
        server.stop()
        logging.getLogger("core").setLevel(logging.NOTSET)


def _bill_body(vendor_id: str, account_id: str) -> Any:
    def body(note: str) -> dict[str, Any]:
        return {
            "VendorRef": {"value": vendor_id},
            "PrivateNote": note,
            "Line": [
                {
                    "Amount": Decimal("125.40"),
                    "DetailType": "AccountBasedExpenseLineDetail",
                    "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account_id}},
                }
            ],
        }

    return body


def _run(
    ctl: Control,
    variants: list[_Variant],
    tokens: TokenManager,
    redis: Redis,
    base: str,
    bodies: dict[str, Any],
) -> None:
    stop = threading.Event()
    t0 = time.monotonic()
    threads: list[threading.Thread] = []
    monitor = threading.Thread(target=_monitor, args=(ctl, variants, t0, stop), daemon=True)
    monitor.start()
    for v in variants:
        for _ in range(THREADS):
            threads.append(
                threading.Thread(
                    target=_work, args=(v, tokens, redis, base, t0, bodies[v.realm]), daemon=True
                )
            )
        threads.append(threading.Thread(target=_produce, args=(v, t0), daemon=True))
    for t in threads:
        t.start()
    time.sleep(max(0.0, CLEAN - (time.monotonic() - t0)))
    _install_faults(ctl, variants)
    deadline = t0 + CLEAN + STORM + FLAKY + DRAIN_LIMIT
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    stop.set()
    monitor.join(timeout=5)
    time.sleep(0.3)


def _report(ctl: Control, v: _Variant, rules: list[dict[str, Any]]) -> None:
    stats = ctl.throttle_stats()["realms"].get(v.realm, {})
    state = requests.get(
        f"{ctl.base}/state", params={"realm": v.realm, "entity": "Bill"}, timeout=30
    ).json()
    notes = [b.get("PrivateNote", "") for b in state["entities"]["Bill"]]
    ours = [n for n in notes if n.startswith(f"{v.tag} #")]
    done = list(v.done)
    failed = [d for d in done if not d.ok]
    statuses: Counter[int] = Counter()
    gaps = []
    for s in v.sessions:
        statuses.update(s.statuses)
        if s.min_gap_after_429 is not None:
            gaps.append(s.min_gap_after_429)
    created_ok = sum(1 for d in done if d.kind == "create" and d.ok)
    by_phase: dict[str, list[float]] = {}
    for d in done:
        if d.ok:
            by_phase.setdefault(d.phase, []).append(d.seconds)
    clean95 = _pct(by_phase.get("clean", []), 0.95)
    wait = f"Retry-After {v.retry_after} s" if v.retry_after else f"client wait {THROTTLE_WAIT} s"
    print(
        f"   -- {v.label}: {THREADS} threads, {RATE:g} ops/s offered for "
        f"{CLEAN + STORM + FLAKY:g} s"
    )
    print(
        f"      operations {len(done)}/{v.produced} finished by {v.finished_at:.0f} s: "
        f"ok {len(done) - len(failed)}, failed permanently {len(failed)} (target 0)"
        f"{'; first: ' + failed[0].error if failed else ''}"
    )
    print(
        f"      creates: logical {v.creates}, succeeded {created_ok}, Bills in QBO {len(ours)} "
        f"(distinct {len(set(ours))}, duplicates {len(ours) - len(set(ours))}; target equal)"
    )
    server_errors = sum(n for c, n in statuses.items() if c >= 500)
    print(
        f"      retries: 429 answers {statuses[429]}, 5xx answers {server_errors}, "
        f"job re-runs {sum(d.reruns for d in done)}; shortest gap after a 429 before the same "
        f"thread sent again {min(gaps) if gaps else 0:.2f} s ({wait})"
    )
    injected: Counter[str] = Counter()
    for rule in rules:
        if rule["realm_id"] == v.realm:
            injected[f"{rule['status']} {rule['phase']}"] += rule["injected"]
    print(
        f"      injected: 429 {injected['429 before']}, 503 before the request ran "
        f"{injected['503 before']}, 503 after it ran (answer lost) {injected['503 after']}"
    )
    admitted_peak = max((s[1] for s in v.samples), default=0)
    print(
        f"      sandbox: max in flight {stats.get('max_concurrent')} (our cap "
        f"{CLIENT_LIMITS.in_flight}, QBO 10), peak requests/min admitted {admitted_peak} "
        f"(limit {CLIENT_LIMITS.per_minute}), all incl. refused {_peak_all(v.samples)}; "
        f"its own limiter's 429s {stats.get('throttled', 0)} (target 0)"
    )
    parts = []
    for phase in ("clean", "429", "503", "drain"):
        values = by_phase.get(phase, [])
        if not values:
            continue
        p95 = _pct(values, 0.95)
        extra = "" if phase == "clean" else f", p95 extra {p95 - clean95:+.2f} s"
        median = statistics.median(values)
        parts.append(f"{phase} ({len(values)}): p50 {median:.3f} s, p95 {p95:.3f} s{extra}")
    print("      call latency by phase picked up in: " + "; ".join(parts))
    queued: dict[str, list[float]] = {}
    for d in done:
        if d.ok:
            queued.setdefault(d.queued_phase, []).append(d.end_to_end)
    base95 = _pct(queued.get("clean", []), 0.95)
    parts = [
        f"{phase} ({len(values)}): p95 {_pct(values, 0.95):.2f} s"
        + ("" if phase == "clean" else f" ({_pct(values, 0.95) - base95:+.2f} s)")
        for phase in ("clean", "429", "503")
        if (values := queued.get(phase, []))
    ]
    print("      enqueued-to-done by phase enqueued in: " + "; ".join(parts))
