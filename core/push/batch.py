"""Fresh creates that go to QBO together: one batch call of up to 30 items.

A push run whose row is a never-tried create of a batchable entity takes up to 29 more waiting
creates of the same company and entity (`core.push.leases.claim_fresh_creates`), maps each
through its plugin, and sends them in one QBO batch under a requestid made from their keys; each
item then settles on its own. While QBO's batch budget (40 a minute) is spent, the lead goes
alone as a single create, so the request budget carries bills meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.contracts import QboPayload
from core.errors import CostbridgeError
from core.errors import Rejected
from core.models import OutboxEntry
from core.push import outbox
from core.push.outcome import Outcome
from core.qbo.errors import QboError
from core.qbo.throttle import Limits
from core.qbo.throttle import RealmThrottle
from core.runtime import Runtime

if TYPE_CHECKING:
    from core.push.deliver import Pusher

#: QBO's Fault codes for a document number already in use (API.md §3.2).
DUPLICATE_DOC_NUMBER = ("6140", "6210")

log = logging.getLogger(__name__)
#: Entities whose creates may travel together in one QBO batch (a file upload never does).
BATCHABLE = ("Bill", "Invoice", "TimeActivity")


def batch_room(rt: Runtime, realm_id: str) -> bool:
    """Whether QBO's batch budget for the realm has room now.

    QBO counts batch calls (40 a minute) apart from its 500 requests a minute, which batches
    also use. While the batch budget is spent, a lead goes alone as a single create: it uses
    the rest of the request budget instead of waiting, so both budgets carry bills at once.
    """
    try:
        return RealmThrottle(rt.redis, Limits.from_settings(rt.settings)).batch_room(realm_id) > 0
    except Exception as exc:  # noqa: BLE001 - the send's own throttle still holds
        log.warning(
            "batch budget of realm %s not read (%s); sending as a batch anyway",
            realm_id,
            type(exc).__name__,
        )
        return True


def send_batch(
    pusher: Pusher, items: Sequence[tuple[OutboxEntry, QboPayload]]
) -> dict[int, Outcome | CostbridgeError]:
    """Create fresh records through one batch call; each item answers for itself.

    Returns:
        Outbox row id -> its outcome, or the error QBO answered for that item.
    """
    keys = sorted(outbox.request_id(e) for e, _p in items)
    request_id = outbox.idempotency_key(pusher.company.id, "batch", 0, ",".join(keys), 1)
    body = [
        {"bId": f"o{entry.id}"[:10], "operation": "create", payload.entity: dict(payload.body)}
        for entry, payload in items
    ]
    answers = pusher.client.batch(body, request_id=request_id)
    out: dict[int, Outcome | CostbridgeError] = {}
    for entry, payload in items:
        answer = answers.get(f"o{entry.id}"[:10])
        error = answer.error if answer is not None else None
        if isinstance(error, QboError) and error.code in DUPLICATE_DOC_NUMBER:
            out[entry.id] = pusher.duplicate_number(entry, payload, error)
            continue
        if isinstance(error, QboError) and isinstance(error, Rejected):
            out[entry.id] = pusher.refused(error, payload)
            continue
        if answer is None or answer.error is not None or answer.entity is None:
            out[entry.id] = (
                answer.error
                if answer is not None and answer.error is not None
                else Rejected("QuickBooks did not answer this item of the batch.")
            )
            continue
        out[entry.id] = pusher.done(entry, payload.entity, answer.entity, "Sent in a batch")
    return out
