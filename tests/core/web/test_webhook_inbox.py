"""The webhook inbox: stored before queued, retried when Redis fails, replay- and stale-proof.

Redis "failing between store and queue" is a runtime whose Redis URL points at a closed port:
the database takes the delivery, the queue cannot. The database "down" is a runtime whose
database URL points at a closed port. Nothing of ours is mocked.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import make_engine
from core.jobs import queues
from core.models import Actual
from core.models import Company
from core.models import ConnectionStatus
from core.models import DeliveryState
from core.models import SyncCursor
from core.models import SyncRun
from core.models import WebhookDelivery
from core.qbo import client_for
from core.qbo.webhook_inbox import parse_when
from core.qbo.webhook_inbox import sweep_inbox
from core.runtime import Runtime
from core.sync.engine import pull_company
from core.web.webhooks import sign
from costbridge_testing.sandbox import connect_company
from costbridge_testing.services import web_app

REALM = "9341452188453921"
CLOSED = "127.0.0.1:1"  # nothing listens on port 1


def delivery(
    realm: str, entity_id: str, when: str, entity: str = "Bill", operation: str = "Update"
) -> bytes:
    change = {"name": entity, "id": entity_id, "operation": operation, "lastUpdated": when}
    note = {"realmId": realm, "dataChangeEvent": {"entities": [change]}}
    return json.dumps({"eventNotifications": [note]}).encode()


def post(rt: Runtime, body: bytes) -> Any:
    with web_app(rt) as app:
        return app.test_client().post(
            "/webhooks/qbo",
            data=body,
            headers={
                "Content-Type": "application/json",
                "intuit-signature": sign(rt.settings.qbo_webhook_verifier, body),
            },
        )


def redis_down(rt: Runtime) -> Runtime:
    """The same runtime, except that its Redis cannot be reached."""
    return Runtime(
        settings=rt.settings.with_overrides({"redis_url": f"redis://{CLOSED}/0"}),
        engine=rt.engine,
        pm=rt.pm,
    )


@pytest.fixture
def database_down(runtime: Runtime) -> Iterator[Runtime]:
    """The test runtime, except that its database cannot be reached."""
    url = f"postgresql+psycopg://postgres@{CLOSED}/test?connect_timeout=2"
    engine: Engine = make_engine(url)
    yield Runtime(
        settings=runtime.settings.with_overrides({"database_url": url}),
        engine=engine,
        pm=runtime.pm,
    )
    engine.dispose()


def work(rt: Runtime) -> None:
    qs = [queues.queue(n, rt.redis) for n in queues.ALL]
    SimpleWorker(qs, connection=rt.redis, serializer=JSONSerializer).work(burst=True)


def deliveries(rt: Runtime) -> list[WebhookDelivery]:
    with rt.sessions() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


@pytest.fixture
def known(committed_db: Session) -> Company:
    row = Company(name="Ridgeline", realm_id=REALM, connection_status=ConnectionStatus.CONNECTED)
    committed_db.add(row)
    committed_db.commit()
    return row


def edited_bill(rt: Runtime, company: Company, control: Any) -> tuple[str, dict[str, Any], str]:
    """A demo company pulled once, then one of its bill lines edited in QuickBooks.

    Returns:
        The realm, the edited line and the bill's `LastUpdatedTime` after the edit.
    """
    hint = str(random.randrange(10**15, 10**16))  # noqa: S311 - a test id
    control._post("seed", {"kind": "demo", "realm_id": hint, "size": 0.1})
    realm = connect_company(rt.settings, rt.sessions, company.id, realm_hint=hint)
    pull_company(rt, company.id)
    client = client_for(rt, realm)
    bill, line = next(
        (b, x)
        for b in client.query("SELECT * FROM Bill MAXRESULTS 100")["Bill"]
        for x in b["Line"]
        if x["DetailType"] == "AccountBasedExpenseLineDetail"
    )
    line["Amount"] = Decimal("4321.09")
    body = {k: v for k, v in bill.items() if k not in ("TotalAmt", "Balance", "MetaData")}
    saved = client.update("Bill", body, request_id=f"inbox-edit-{hint}")
    return realm, {**line, "bill_id": bill["Id"]}, str(saved["MetaData"]["LastUpdatedTime"])


def actual_amount(rt: Runtime, line: dict[str, Any]) -> Decimal | None:
    with rt.sessions() as session:
        return session.scalar(
            select(Actual.amount).where(
                Actual.qbo_entity == "Bill",
                Actual.qbo_id == line["bill_id"],
                Actual.qbo_line_id == str(line["Id"]),
            )
        )


def test_redis_failing_after_the_store_then_intuits_retry_pulls_the_change(
    qbo_runtime: Runtime, company: Company, sandbox_control: Any
) -> None:
    realm, line, when = edited_bill(qbo_runtime, company, sandbox_control)
    body = delivery(realm, line["bill_id"], when)

    first = post(redis_down(qbo_runtime), body)
    assert first.status_code == 503  # stored, not queued: Intuit must send it again
    (row,) = deliveries(qbo_runtime)
    assert row.state == DeliveryState.RECEIVED

    retry = post(qbo_runtime, body)
    assert retry.status_code == 200
    assert retry.json["duplicates"] == 1
    assert retry.json["queued"] == 1
    work(qbo_runtime)
    assert actual_amount(qbo_runtime, line) == Decimal("4321.09")
    assert [r.state for r in deliveries(qbo_runtime)] == [DeliveryState.DONE]


def test_the_sweeper_queues_a_stored_change_intuit_never_sent_again(
    qbo_runtime: Runtime, company: Company, sandbox_control: Any
) -> None:
    realm, line, when = edited_bill(qbo_runtime, company, sandbox_control)
    assert post(redis_down(qbo_runtime), delivery(realm, line["bill_id"], when)).status_code == 503

    assert sweep_inbox(qbo_runtime, older_than=dt.timedelta(0)) == {"candidates": 1, "queued": 1}
    # A second sweep finds the job still waiting and queues nothing more.
    assert sweep_inbox(qbo_runtime, older_than=dt.timedelta(0))["queued"] == 0
    work(qbo_runtime)
    assert actual_amount(qbo_runtime, line) == Decimal("4321.09")
    assert sweep_inbox(qbo_runtime, older_than=dt.timedelta(0))["candidates"] == 0


def test_a_flushed_redis_does_not_let_an_old_delivery_in_again(
    runtime: Runtime, redis_conn: Any, known: Company
) -> None:
    body = delivery(REALM, "146", "2025-09-08T20:52:31.657Z")
    assert post(runtime, body).json["queued"] == 1
    work(runtime)
    redis_conn.flushdb()
    again = post(runtime, body)
    assert again.status_code == 200
    assert again.json["queued"] == 0
    assert again.json["duplicates"] == 1
    assert queues.queue(queues.WEBHOOKS, runtime.redis).count == 0


def test_with_redis_down_the_answer_is_503(
    runtime: Runtime, redis_conn: Any, known: Company
) -> None:
    resp = post(redis_down(runtime), delivery(REALM, "146", "2025-09-08T20:52:31.657Z"))
    assert resp.status_code == 503
    assert b"Traceback" not in resp.data


def test_with_the_database_down_the_answer_is_503(database_down: Runtime, redis_conn: Any) -> None:
    resp = post(database_down, delivery(REALM, "146", "2025-09-08T20:52:31.657Z"))
    assert resp.status_code == 503
    assert not redis_conn.keys("rq:queue:*")  # nothing queued, on any install's queue


def test_a_change_older_than_one_already_applied_is_ignored(
    runtime: Runtime, redis_conn: Any, known: Company
) -> None:
    assert post(runtime, delivery(REALM, "146", "2025-09-08T21:00:00Z")).json["queued"] == 1
    work(runtime)
    older = post(runtime, delivery(REALM, "146", "2025-09-08T20:00:00Z"))
    assert older.status_code == 200
    assert older.json == {"queued": 0, "duplicates": 0, "stale": 1, "ignored": 0}
    # Another record, or a later change of this one, still counts.
    assert post(runtime, delivery(REALM, "147", "2025-09-08T20:00:00Z")).json["queued"] == 1
    assert post(runtime, delivery(REALM, "146", "2025-09-08T22:00:00Z")).json["queued"] == 1


def test_a_2019_change_after_a_completed_pull_is_ignored(
    runtime: Runtime, redis_conn: Any, known: Company, committed_db: Session
) -> None:
    committed_db.add(
        SyncCursor(
            realm_id=REALM,
            entity="Bill",
            position=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
            full_sync_done=True,
        )
    )
    committed_db.commit()
    resp = post(runtime, delivery(REALM, "146", "2019-03-01T10:00:00Z"))
    assert resp.json["stale"] == 1
    assert deliveries(runtime) == []
    assert post(runtime, delivery(REALM, "146", "2025-09-08T21:00:00Z")).json["queued"] == 1


def test_each_change_is_stored_once_with_its_job(
    runtime: Runtime, redis_conn: Any, known: Company
) -> None:
    body = delivery(REALM, "146", "2025-09-08T20:52:31.657Z")
    for _ in range(3):
        assert post(runtime, body).status_code == 200
    (row,) = deliveries(runtime)
    assert row.state == DeliveryState.QUEUED
    work(runtime)
    (row,) = deliveries(runtime)
    assert row.state == DeliveryState.DONE
    with runtime.sessions() as session:
        runs = session.scalars(select(SyncRun).where(SyncRun.kind == "webhook")).all()
    assert len(runs) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-09-08T20:52:31.657Z", dt.datetime(2025, 9, 8, 20, 52, 31, 657000, tzinfo=dt.UTC)),
        ("2025-09-10T21:31:25.179851517Z", dt.datetime(2025, 9, 10, 21, 31, 25, 179851, dt.UTC)),
        ("2025-09-08T13:52:31-07:00", dt.datetime(2025, 9, 8, 20, 52, 31, tzinfo=dt.UTC)),
        ("2025-09-08T20:52:31", dt.datetime(2025, 9, 8, 20, 52, 31, tzinfo=dt.UTC)),
        ("x", None),
        ("2025-13-45T99:00:00Z", None),
    ],
)
def test_last_updated_times_are_read_in_both_formats(
    raw: str, expected: dt.datetime | None
) -> None:
    assert parse_when(raw) == expected


def test_the_sweep_deletes_handled_changes_after_thirty_days_and_keeps_waiting_ones(
    qbo_runtime: Runtime, committed_db: Session
) -> None:
    from core.qbo.webhook_jobs import sweep_public

    now = dt.datetime.now(dt.UTC)

    def row(n: int, state: DeliveryState, days_ago: float) -> WebhookDelivery:
        return WebhookDelivery(
            realm_id="9130350000000001",
            entity="Bill",
            entity_id=str(n),
            operation="Update",
            last_updated_raw=f"2026-01-0{n}T10:00:00.000Z",
            state=state,
            received_at=now - dt.timedelta(days=days_ago),
            done_at=now - dt.timedelta(days=days_ago) if state == DeliveryState.DONE else None,
        )

    committed_db.add_all(
        [
            row(1, DeliveryState.DONE, 31),
            row(2, DeliveryState.DONE, 29),
            row(3, DeliveryState.RECEIVED, 45),
        ]
    )
    committed_db.commit()
    assert sweep_public()["webhook_pruned"] == 1
    assert sorted((r.entity_id, r.state) for r in deliveries(qbo_runtime)) == [
        ("2", DeliveryState.DONE),
        ("3", DeliveryState.QUEUED),  # still waiting: queued again, never deleted
    ]
    assert sweep_public()["webhook_pruned"] == 0
