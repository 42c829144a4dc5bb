"""Prometheus metrics: the counters code calls, and what `/metrics` computes at scrape time.

Counters and the request-latency histogram are recorded where things happen, through the small
functions below (`qbo_request`, `token_refresh`, `webhook_delivery`, `sync_run_finished`,
`http_request`). Queue depths, outbox rows per state and sync runs per kind and state are read
from Redis and the database when scraped (`ScrapeCollector`), so they are right whichever
machine did the work.

Under gunicorn each process keeps its own counts; with `PROMETHEUS_MULTIPROC_DIR` set
(`costbridge web` and `costbridge worker` set it to `<instance>/prometheus` unless it is given)
they write them to files there and `/metrics` sums every file, the workers' on that machine
included (prometheus_client's multiprocess mode). The variable must be set before
`prometheus_client` is first imported: the CLI does that. Every metric has labels, so no value
exists until first recorded; `new_process` relies on that (see `core.jobs.resilience`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import generate_latest
from prometheus_client import values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from core.runtime import Runtime

__all__ = [
    "CONTENT_TYPE",
    "ScrapeCollector",
    "http_request",
    "qbo_request",
    "render",
    "sync_run_finished",
    "token_refresh",
    "webhook_delivery",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

QBO_REQUESTS = Counter(
    "costbridge_qbo_requests",
    "QuickBooks API calls by HTTP status class (none: no answer).",
    ["status_class"],
)
QBO_THROTTLED = Counter(
    "costbridge_qbo_throttled",
    "QuickBooks answers with HTTP 429 (too many requests).",
    ["api"],
)
TOKEN_REFRESHES = Counter(
    "costbridge_qbo_token_refreshes",
    "OAuth refresh-token calls by outcome (ok, invalid_grant, error).",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "costbridge_webhook_deliveries",
    "Intuit webhook deliveries: accepted (queued), duplicate (all seen before), refused.",
    ["outcome"],
)
SYNC_RUNS_FINISHED = Counter(
    "costbridge_sync_runs_finished",
    "Sync runs that reached a final state, by kind and state.",
    ["kind", "state"],
)
HTTP_LATENCY = Histogram(
    "costbridge_http_request_duration_seconds",
    "Web request latency by endpoint, method and status class.",
    ["endpoint", "method", "status_class"],
)
ALL = (QBO_REQUESTS, QBO_THROTTLED, TOKEN_REFRESHES, WEBHOOK_DELIVERIES, SYNC_RUNS_FINISHED)


def _status_class(status: int | None) -> str:
    return "none" if status is None else f"{status // 100}xx"


def qbo_request(status: int | None) -> None:
    """Count one QuickBooks API answer (`None`: the call got no answer)."""
    QBO_REQUESTS.labels(_status_class(status)).inc()
    if status == 429:
        QBO_THROTTLED.labels("qbo").inc()


def token_refresh(outcome: str) -> None:
    """Count one refresh-token call: `ok`, `invalid_grant` or `error`."""
    TOKEN_REFRESHES.labels(outcome).inc()


def webhook_delivery(outcome: str) -> None:
    """Count one webhook delivery: `accepted`, `duplicate` or `refused`."""
    WEBHOOK_DELIVERIES.labels(outcome).inc()


def count_webhook_response(response: Response) -> Response:
    """`after_request` of the webhook blueprint: classify the delivery by its answer."""
    if response.status_code >= 400:
        webhook_delivery("refused")
        return response
    body = response.get_json(silent=True) or {}
    webhook_delivery(
        "accepted" if body.get("queued") or not body.get("duplicates") else "duplicate"
    )
    return response


def sync_run_finished(kind: str, state: str) -> None:
    """Count a sync run that reached a final state (`succeeded`, `failed`, `needs_admin`)."""
    SYNC_RUNS_FINISHED.labels(kind, str(state)).inc()


def http_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Observe one web request's latency."""
    HTTP_LATENCY.labels(endpoint, method, _status_class(status)).observe(seconds)


def multiprocess_dir() -> str | None:
    """The directory counters are shared through, when multiprocess mode is on."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def new_process(identity: str) -> None:
    """Start this process's counts afresh under `identity` (a job's forked work horse).

    A worker's horses run one at a time, so they can share one file set named after the
    worker instead of leaving one per job. Forgetting the label children makes each horse
    reopen the files from disk rather than write through a copy of its parent's mapping.
    """
    if not multiprocess_dir():
        return
    values.ValueClass = values.MultiProcessValue(  # type: ignore[no-untyped-call]
        process_identifier=lambda: identity
    )
    # prometheus_client warns that clear() does not delete the files of other processes in
    # multi-process mode; only this process's in-memory children are meant to go here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Clearing labels", UserWarning)
        for metric in (*ALL, HTTP_LATENCY):
            metric.clear()


class ScrapeCollector(Collector):
    """Gauges read at scrape time: queue depths, outbox rows per state, sync runs.

    A part that cannot be read (Redis or the database away) is reported by
    `costbridge_scrape_error{part}` instead of failing the whole scrape.
    """

    def __init__(self, runtime: Runtime) -> None:
        """Read through `runtime`'s engine and Redis."""
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges; each part is read whole before any of it is yielded."""
        errors = GaugeMetricFamily(
            "costbridge_scrape_error", "1 when a part could not be read.", labels=["part"]
        )
        for part, read in (("redis", self._queues), ("database", self._database)):
            try:
                found = read()
            except Exception:  # reported as a gauge; the scrape goes on
                errors.add_metric([part], 1)
                continue
            errors.add_metric([part], 0)
            yield from found
        yield errors

    def _queues(self) -> list[Metric]:
        from rq.registry import FailedJobRegistry

        from core.jobs import queues

        depth = GaugeMetricFamily(
            "costbridge_queue_depth", "Jobs waiting on each queue.", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "costbridge_queue_failed", "Jobs in each queue's failed registry.", labels=["queue"]
        )
        redis = self.runtime.redis
        for name in queues.ALL:
            queue = queues.queue(name, redis)
            depth.add_metric([name], queue.count)
            failed.add_metric([name], FailedJobRegistry(queue=queue).count)
        return [depth, failed]

    def _database(self) -> list[Metric]:
        from sqlalchemy import func
        from sqlalchemy import select

        from core.models import OutboxEntry
        from core.models import OutboxState
        from core.models import SyncRun

        outbox = GaugeMetricFamily(
            "costbridge_outbox_rows", "Outbox rows in each state.", labels=["state"]
        )
        runs = GaugeMetricFamily(
            "costbridge_sync_runs",
            "Sync runs in the log by kind and state.",
            labels=["kind", "state"],
        )
        with self.runtime.sessions() as session:
            by_state = dict(
                session.execute(
                    select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)
                ).all()
            )
            run_rows = session.execute(
                select(SyncRun.kind, SyncRun.state, func.count()).group_by(
                    SyncRun.kind, SyncRun.state
                )
            ).all()
        for outbox_state in OutboxState:
            outbox.add_metric([outbox_state.value], by_state.get(outbox_state, 0))
        for kind, run_state, count in run_rows:
            runs.add_metric([kind, str(getattr(run_state, "value", run_state))], count)
        return [outbox, runs]


def render(runtime: Runtime) -> bytes:
    """The Prometheus text exposition of every metric, this machine's processes summed."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Process())
    registry.register(ScrapeCollector(runtime))
    return generate_latest(registry)


class _Process(Collector):
    """This process's counters (single-process mode: development and tests)."""

    def collect(self) -> Iterator[Metric]:
        for metric in (*ALL, HTTP_LATENCY):
            yield from metric.collect()


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    """This process's current value of a sample (0 when never recorded); for tests and status."""
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0
