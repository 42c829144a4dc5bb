"""The RQ job behind `POST /webhooks/qbo`: one realm's changes, as JSON-safe strings.

A notification only says *that* something changed (API.md §10.1); the job records the
delivery on a `SyncRun` (kind `webhook`) with the changed entity names, so support sees it, and
queues a CDC pull of the realm (debounced: many webhooks, one pull). It never receives a token.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from core import metrics
from core import runtime as runtime_mod
from core.crypto import scrubbed_logger
from core.db import utcnow
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.models.sync import RunState
from core.models.sync import SyncRun
from core.qbo import webhook_inbox
from core.sync.jobs import request_pull

log = scrubbed_logger(__name__)


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
    from core.qbo.revocation import retry_revocations

    rt = runtime_mod.current()
    inbox = webhook_inbox.sweep_inbox(rt)
    pruned = webhook_inbox.prune_inbox(rt)
    revokes = retry_revocations(rt)
    return {
        "webhook_changes": inbox["candidates"],
        "webhook_queued": inbox["queued"],
        "webhook_pruned": pruned,
        "revokes_tried": revokes["tried"],
        "revokes_confirmed": revokes["confirmed"],
    }
