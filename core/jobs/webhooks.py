"""The webhook jobs: one realm's reported changes, and the sweep of the public endpoints.

`POST /webhooks/qbo` stores each change in the inbox (`core.qbo.webhook_inbox`) and commits, then
`queue_pending` queues one `process_changes` job per realm. A notification only says *that*
something changed (API.md §10.1): the job records the delivery on a `SyncRun` (kind `webhook`)
with the changed entity names, so support sees it, and asks for a CDC pull of the realm
(debounced: many webhooks, one pull). It never receives a token. `sweep_public`, on the
maintenance queue, queues the changes Redis lost and retries unconfirmed revocations.

These jobs were `core.qbo.webhook_jobs.*` before; that name stays an alias for jobs queued then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy import update

from core import metrics
from core import namespace
from core import runtime as runtime_mod
from core.crypto import scrubbed_logger
from core.db import utcnow
from core.jobs import queues
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.models.hardening import DeliveryState
from core.models.hardening import WebhookDelivery
from core.models.sync import RunState
from core.models.sync import SyncRun
from core.qbo import webhook_inbox
from core.qbo.revocation import retry_revocations
from core.runtime import Runtime
from core.sync.jobs import request_pull

__all__ = ["job_id_for", "process_changes", "queue_pending", "sweep_inbox", "sweep_public"]

log = scrubbed_logger(__name__)

#: A `received` or `queued` row older than this is the sweeper's to queue again: the request
#: that stored it has long answered, and a queued job this old was lost with Redis.
SWEEP_AFTER = dt.timedelta(seconds=60)
#: Most changes one sweep queues (the rest go on the next sweep).
SWEEP_LIMIT = 5000
_FINISHED = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def process_changes(
    realm_id: str, changes: list[dict[str, str]], inbox_ids: list[int] | None = None
) -> dict[str, Any]:
    """Record one realm's webhook changes on the sync log.

    Args:
        realm_id: The QBO company.
        changes: `{"entity", "id", "operation", "last_updated"[, "deleted_id"]}` each.
        inbox_ids: The `WebhookDelivery` rows these changes came from; marked done once the
            pull is asked for (or the company turns out to have nothing to pull).

    Returns:
        A JSON-safe summary (RQ keeps it as the job result).
    """
    rt = runtime_mod.current()
    entities = sorted({c["entity"] for c in changes})
    with rt.sessions() as session:
        company = session.scalars(select(Company).where(Company.realm_id == realm_id)).first()
        if company is None or company.connection_status != ConnectionStatus.CONNECTED:
            webhook_inbox.mark_done(session, inbox_ids or [])
            session.commit()
            if company is None:
                return {"skipped": "no company has this realm"}
            return {"skipped": f"company is {company.connection_status.value}"}
        counts = Counter(f"{c['entity']}:{c['operation']}" for c in changes)
        run = SyncRun(
            company_id=company.id,
            kind="webhook",
            trigger="webhook",
            state=RunState.RUNNING,
            started_at=utcnow(),
            attempts=1,
            counts=dict(counts),
            message=f"QuickBooks reported {len(changes)} change(s): {', '.join(entities)}.",
        )
        session.add(run)
        session.commit()
        run_id = run.id
        run.state = RunState.SUCCEEDED
        run.finished_at = utcnow()
        session.commit()
        metrics.sync_run_finished(run.kind, run.state)
        company_id = company.id
    pull_run = request_pull(rt, company_id, trigger="webhook")
    if inbox_ids:
        with rt.sessions() as session:
            webhook_inbox.mark_done(session, inbox_ids)
            session.commit()
    log.info("webhook job: realm %s, %s change(s), run %s", realm_id, len(changes), run_id)
    return {
        "realm_id": realm_id,
        "changes": len(changes),
        "entities": entities,
        "run_id": run_id,
        "pull_run_id": pull_run,
    }


def sweep_public() -> dict[str, int]:
    """The maintenance sweep's share for the public endpoints (workers queue it every minute).

    Queues webhook changes that were stored but never queued (or lost with Redis), deletes
    handled ones past `webhook_inbox.KEEP_DONE`, and tries again the revocations Intuit has not
    confirmed.
    """
    rt = runtime_mod.current()
    inbox = sweep_inbox(rt)
    pruned = webhook_inbox.prune_inbox(rt)
    revokes = retry_revocations(rt)
    return {
        "webhook_changes": inbox["candidates"],
        "webhook_queued": inbox["queued"],
        "webhook_pruned": pruned,
        "revokes_tried": revokes["tried"],
        "revokes_confirmed": revokes["confirmed"],
    }


# -- queueing the changes ---------------------------------------------------------------------


def job_id_for(rt: Runtime, realm_id: str, ids: Iterable[int]) -> str:
    """The deterministic RQ job id of one realm's batch of inbox rows (under the install id)."""
    digest = hashlib.sha256(",".join(str(i) for i in sorted(ids)).encode()).hexdigest()[:24]
    return namespace.job_id(rt.install_id, "webhook", realm_id, digest)


def queue_pending(rt: Runtime, pending: dict[str, list[int]]) -> int:
    """Queue one webhook job per realm for these inbox rows, then mark them `queued`.

    Raises whatever Redis raises; rows not queued stay `received` for a retry or the sweeper.

    Returns:
        How many changes were queued.
    """
    queued = 0
    for realm, ids in pending.items():
        if not ids:
            continue
        with rt.sessions() as session:
            rows = session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .order_by(WebhookDelivery.id)
            ).all()
            changes = [row.as_change() for row in rows]
            row_ids = [row.id for row in rows]
        if not row_ids:
            continue
        job_id = job_id_for(rt, realm, row_ids)
        _forget_finished_job(rt, job_id)
        job = queues.enqueue(
            rt.redis,
            queues.WEBHOOKS,
            process_changes,
            job_id=job_id,
            kwargs={"realm_id": realm, "changes": changes, "inbox_ids": row_ids},
            meta={"realm_id": realm, "kind": "webhook"},
        )
        with rt.sessions() as session:
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id.in_(row_ids),
                    WebhookDelivery.state != DeliveryState.DONE,
                )
                .values(state=DeliveryState.QUEUED, queued_at=utcnow(), job_id=job_id)
            )
            session.commit()
        queued += len(row_ids) if job is not None else 0
    return queued


def _job_alive(rt: Runtime, job_id: str) -> bool:
    """Whether RQ still holds this job waiting, scheduled or running."""
    try:
        job = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) not in _FINISHED


def _forget_finished_job(rt: Runtime, job_id: str) -> None:
    """Drop a finished or failed job of the same id, so the rows can go again."""
    try:
        job = Job.fetch(job_id, connection=rt.redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return
    if job.get_status(refresh=False) in _FINISHED:
        job.delete()


def sweep_inbox(rt: Runtime, *, older_than: dt.timedelta = SWEEP_AFTER) -> dict[str, int]:
    """Queue every stored change that has waited too long: never queued, or lost with Redis.

    A job still queued keeps its id, so queueing its rows again is refused by RQ (`unique`).

    Returns:
        `{"candidates": n, "queued": m}`.
    """
    cutoff = utcnow() - older_than
    with rt.sessions() as session:
        rows = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.realm_id, WebhookDelivery.job_id)
            .where(
                WebhookDelivery.state.in_([DeliveryState.RECEIVED, DeliveryState.QUEUED]),
                WebhookDelivery.received_at < cutoff,
            )
            .order_by(WebhookDelivery.id)
            .limit(SWEEP_LIMIT)
        ).all()
    live: dict[str, bool] = {}
    pending: dict[str, list[int]] = defaultdict(list)
    for row_id, realm, job_id in rows:
        if job_id:
            if job_id not in live:
                live[job_id] = _job_alive(rt, job_id)
            if live[job_id]:
                continue  # its job is still waiting or running
        pending[realm].append(row_id)
    queued = queue_pending(rt, pending) if pending else 0
    if rows:
        log.info("webhook inbox sweep: %s waiting change(s), %s queued", len(rows), queued)
    return {"candidates": len(rows), "queued": queued}
