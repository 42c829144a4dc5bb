"""`POST /webhooks/qbo`: signature, realms, de-duplication, both formats, fuzzing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from redis import Redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.jobs import queues
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.models.hardening import WebhookDelivery
from core.models.sync import SyncRun
from core.runtime import Runtime
from core.web.webhooks import sign
from costbridge_testing.shared import samples_dir

REALM = "9341452188453921"
SAMPLES = samples_dir()


@pytest.fixture
def hook(app: Flask, redis_conn: Redis) -> FlaskClient:
    """A client of the real app (the webhook is exempt from CSRF: the signature is the check)."""
    return app.test_client()


@pytest.fixture
def known(committed_db: Session) -> Company:
    row = Company(
        name="Ridgeline Builders", realm_id=REALM, connection_status=ConnectionStatus.CONNECTED
    )
    committed_db.add(row)
    committed_db.commit()
    return row


def legacy(
    realm: str = REALM,
    entity_id: str = "146",
    when: str = "2025-09-08T20:52:31.657Z",
    operation: str = "Update",
) -> bytes:
    return json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": realm,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Bill",
                                "id": entity_id,
                                "operation": operation,
                                "lastUpdated": when,
                            }
                        ]
                    },
                }
            ]
        }
    ).encode()


def post(hook: FlaskClient, body: bytes, verifier: str | None, signature: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["intuit-signature"] = signature
    elif verifier is not None:
        headers["intuit-signature"] = sign(verifier, body)
    return hook.post("/webhooks/qbo", data=body, headers=headers)


def queued(redis: Redis) -> int:
    return queues.queue(queues.WEBHOOKS, redis).count


def test_a_signed_delivery_is_accepted_and_queued(
    hook: FlaskClient, runtime: Runtime, redis_conn: Redis, known: Company
) -> None:
    resp = post(hook, legacy(), runtime.settings.qbo_webhook_verifier)
    assert resp.status_code == 200
    assert resp.json["queued"] == 1
    q = queues.queue(queues.WEBHOOKS, runtime.redis)
    (job,) = q.jobs
    with runtime.sessions() as session:
        stored = session.scalars(select(WebhookDelivery.id)).all()
    assert job.kwargs.pop("inbox_ids") == list(stored)
    assert job.kwargs == {
        "realm_id": REALM,
        "changes": [
            {
                "entity": "Bill",
                "id": "146",
                "operation": "Update",
                "last_updated": "2025-09-08T20:52:31.657Z",
            }
        ],
    }
    SimpleWorker([q], connection=runtime.redis, serializer=JSONSerializer).work(burst=True)
    with runtime.sessions() as session:
        run = session.scalars(select(SyncRun).where(SyncRun.kind == "webhook")).one()
    assert run.company_id == known.id
    assert run.counts == {"Bill:Update": 1}


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000", "http://localhost"])
def test_a_signed_delivery_from_a_loopback_host_is_accepted(
    hook: FlaskClient, known: Company, runtime: Runtime, redis_conn: Redis, base: str
) -> None:
    body = legacy()
    resp = hook.post(
        "/webhooks/qbo",
        data=body,
        base_url=base,
        headers={
            "Content-Type": "application/json",
            "intuit-signature": sign(runtime.settings.qbo_webhook_verifier, body),
        },
    )
    assert resp.status_code == 200
    assert queued(runtime.redis) == 1


def test_a_delivery_under_an_untrusted_host_name_is_refused(
    hook: FlaskClient, known: Company, runtime: Runtime, redis_conn: Redis
) -> None:
    body = legacy()
    resp = hook.post(
        "/webhooks/qbo",
        data=body,
        base_url="http://rebind.attacker.example",
        headers={
            "Content-Type": "application/json",
            "intuit-signature": sign(runtime.settings.qbo_webhook_verifier, body),
        },
    )
    assert resp.status_code == 400
    assert queued(runtime.redis) == 0


@pytest.mark.parametrize("signature", [None, "", "bm90IHRoZSBzaWduYXR1cmU=", "garbage!"])
def test_a_bad_or_missing_signature_is_401_and_queues_nothing(
    hook: FlaskClient, redis_conn: Redis, known: Company, signature: str | None
) -> None:
    resp = post(hook, legacy(), None, signature=signature)
    assert resp.status_code == 401
    assert not redis_conn.keys("rq:queue:*")  # nothing queued, on any install's queue


def test_a_signature_over_other_bytes_is_refused(
    hook: FlaskClient, runtime: Runtime, redis_conn: Redis, known: Company
) -> None:
    body = legacy()
    resp = post(
        hook,
        body.replace(b"146", b"147"),
        None,
        signature=sign(runtime.settings.qbo_webhook_verifier, body),
    )
    assert resp.status_code == 401
    assert queued(runtime.redis) == 0


def test_events_for_unknown_realms_are_ignored(
    hook: FlaskClient, runtime: Runtime, redis_conn: Redis, known: Company
) -> None:
    resp = post(hook, legacy(realm="1111111111"), runtime.settings.qbo_webhook_verifier)
    assert resp.status_code == 200
    assert resp.json["ignored"] == 1
    assert queued(runtime.redis) == 0


def test_a_repeated_delivery_is_queued_once(
    hook: FlaskClient, runtime: Runtime, redis_conn: Redis, known: Company
) -> None:
    verifier = runtime.settings.qbo_webhook_verifier
    assert post(hook, legacy(), verifier).json["queued"] == 1
    again = post(hook, legacy(), verifier)
    assert again.status_code == 200
    assert again.json == {"queued": 0, "duplicates": 1, "stale": 0, "ignored": 0}
    assert queued(runtime.redis) == 1
    # A later change to the same record is new.
    assert post(hook, legacy(when="2025-09-08T21:00:00.000Z"), verifier).json["queued"] == 1


def test_cloudevents_payloads_are_accepted(
    hook: FlaskClient, runtime: Runtime, redis_conn: Redis, known: Company
) -> None:
    body = (
        (SAMPLES / "webhook.cloudevents.payload.json").read_bytes()
        if SAMPLES.exists()
        else json.dumps(
            [
                {
                    "specversion": "1.0",
                    "id": "x",
                    "type": "qbo.vendor.merged.v1",
                    "time": "2024-05-21T17:05:00Z",
                    "intuitentityid": "71",
                    "intuitaccountid": REALM,
                    "data": {"deletedid": "72"},
                }
            ]
        ).encode()
    )
    resp = post(hook, body, runtime.settings.qbo_webhook_verifier)
    assert resp.status_code == 200
    (job,) = queues.queue(queues.WEBHOOKS, runtime.redis).jobs
    merged = [c for c in job.kwargs["changes"] if c["operation"] == "Merge"]
    assert merged == [
        {
            "entity": "Vendor",
            "id": "71",
            "operation": "Merge",
            "last_updated": "2024-05-21T17:05:00Z",
            "deleted_id": "72",
        }
    ]


@pytest.mark.parametrize(
    "body", [b"{not json", b"\xff\xfe", b'{"eventNotifications": 5}', b'"text"', b"[1, 2]", b""]
)
def test_malformed_bodies_with_a_valid_signature_are_400(
    hook: FlaskClient, runtime: Runtime, redis_conn: Redis, known: Company, body: bytes
) -> None:
    resp = post(hook, body, runtime.settings.qbo_webhook_verifier)
    assert resp.status_code == 400
    assert queued(runtime.redis) == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
event = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["Bill", "Vendor", 5, None, ""]),
        "id": st.one_of(st.text(max_size=8), st.integers()),
        "operation": st.sampled_from(["Create", "Update", "Delete", 3]),
        "lastUpdated": st.text(max_size=30),
    }
)
legacy_bodies = st.fixed_dictionaries(
    {
        "eventNotifications": st.lists(
            st.fixed_dictionaries(
                {
                    "realmId": st.sampled_from([REALM, "1", 7, None]),
                    "dataChangeEvent": st.one_of(
                        json_values,
                        st.fixed_dictionaries(
                            {"entities": st.lists(st.one_of(event, json_values), max_size=3)}
                        ),
                    ),
                }
            ),
            max_size=3,
        )
    }
)


@given(body=st.one_of(json_values, legacy_bodies))
@hsettings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzzed_signed_bodies_never_get_a_5xx(
    hook: FlaskClient, runtime: Runtime, known: Company, body: Any
) -> None:
    raw = json.dumps(body).encode()
    resp = post(hook, raw, runtime.settings.qbo_webhook_verifier)
    assert resp.status_code in (200, 400)


@given(raw=st.binary(max_size=200))
@hsettings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_fuzzed_signed_bytes_never_get_a_5xx(
    hook: FlaskClient, runtime: Runtime, known: Company, raw: bytes
) -> None:
    assert post(hook, raw, runtime.settings.qbo_webhook_verifier).status_code in (200, 400)
