"""Pull jobs on real RQ queues: debounced requests, and a signed webhook reaching actuals."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any

from rq import Queue
from rq import SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select

from core.jobs import queues
from core.models import Actual
from core.models import Company
from core.models import RunState
from core.models import SyncRun
from core.qbo import client_for
from core.runtime import Runtime
from core.sync.engine import pull_company
from core.sync.jobs import pending_key
from core.sync.jobs import request_pull
from core.web.webhooks import sign
from costbridge_testing.sandbox import connect_company
from costbridge_testing.services import web_app


def _demo(qbo_runtime: Runtime, company: Company, control: Any) -> str:
    hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id
    control._post("seed", {"kind": "demo", "realm_id": hint, "size": 0.1})
    return connect_company(qbo_runtime.settings, qbo_runtime.sessions, company.id, realm_hint=hint)


def _work(rt: Runtime) -> None:
    names = (queues.WEBHOOKS, queues.PULL)
    qs = [Queue(n, connection=rt.redis, serializer=JSONSerializer) for n in names]
    SimpleWorker(qs, connection=rt.redis, serializer=JSONSerializer).work(burst=True)


def test_many_pull_requests_queue_one_pull(
    qbo_runtime: Runtime, company: Company, sandbox_control: Any
) -> None:
    _demo(qbo_runtime, company, sandbox_control)
    runs = [request_pull(qbo_runtime, company.id, trigger="webhook") for _ in range(5)]
    assert runs[0] is not None
    assert runs[1:] == [None] * 4
    assert Queue(queues.PULL, connection=qbo_runtime.redis, serializer=JSONSerializer).count == 1
    _work(qbo_runtime)
    with qbo_runtime.sessions() as session:
        run = session.get(SyncRun, runs[0])
        assert run is not None
        assert run.state == RunState.SUCCEEDED
        assert run.trigger == "webhook"
        assert run.counts["added"] > 0
    # Records read, in the job's meta: the console's Sync Expenses and queue view show them.
    job = Job.fetch(f"pull-{company.id}-{runs[0]}", qbo_runtime.redis, JSONSerializer)
    assert job.meta["progress"] == run.counts["records"] > 0
    # The job cleared the flag as it started: the next change queues the next pull.
    assert qbo_runtime.redis.get(pending_key(company.id)) is None
    assert request_pull(qbo_runtime, company.id) is not None


def test_signed_webhook_for_an_edit_updates_the_actual(
    qbo_runtime: Runtime, company: Company, sandbox_control: Any, qbo_sandbox: Any
) -> None:
    realm = _demo(qbo_runtime, company, sandbox_control)
    pull_company(qbo_runtime, company.id)
    client = client_for(qbo_runtime, realm)
    bill, line = next(
        (b, x)
        for b in client.query("SELECT * FROM Bill MAXRESULTS 100")["Bill"]
        for x in b["Line"]
        if x["DetailType"] == "AccountBasedExpenseLineDetail"
    )
    line["Amount"] = Decimal("1234.56")
    body = {k: v for k, v in bill.items() if k not in ("TotalAmt", "Balance", "MetaData")}
    updated = client.update("Bill", body, request_id="webhook-edit-1")
    # Intuit's lastUpdated is the record's own update time (in UTC), never a date fixed in a test.
    changed_at = dt.datetime.fromisoformat(updated["MetaData"]["LastUpdatedTime"])
    last_updated = changed_at.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    payload = json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": realm,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Bill",
                                "id": bill["Id"],
                                "operation": "Update",
                                "lastUpdated": last_updated.replace("+00:00", "Z"),
                            }
                        ]
                    },
                }
            ]
        }
    ).encode()
    verifier = qbo_runtime.settings.qbo_webhook_verifier
    with web_app(qbo_runtime) as app:
        for _ in range(3):  # Intuit retries; many deliveries still make one pull
            resp = app.test_client().post(
                "/webhooks/qbo",
                data=payload,
                headers={
                    "Content-Type": "application/json",
                    "intuit-signature": sign(verifier, payload),
                },
            )
            assert resp.status_code == 200
    _work(qbo_runtime)
    with qbo_runtime.sessions() as session:
        amount = session.scalar(
            select(Actual.amount).where(
                Actual.qbo_entity == "Bill",
                Actual.qbo_id == bill["Id"],
                Actual.qbo_line_id == str(line["Id"]),
            )
        )
        pulls = session.scalars(
            select(SyncRun).where(SyncRun.kind == "pull", SyncRun.trigger == "webhook")
        ).all()
    assert amount == Decimal("1234.56")
    assert len(pulls) == 1
    assert pulls[0].counts["modes"] == dict.fromkeys(
        ("Bill", "Purchase", "TimeActivity", "VendorCredit"), "cdc"
    )
