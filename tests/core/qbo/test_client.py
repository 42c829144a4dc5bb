"""QboClient against the sandbox over real HTTP: headers, requestid, typed Faults, retries."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import uuid
from decimal import Decimal
from typing import Any

import pytest

from core.errors import NeedsAdmin
from core.errors import Rejected
from core.errors import TryLater
from core.qbo.client import QboClient
from core.qbo.errors import AuthenticationFailed
from core.qbo.errors import DuplicateName
from core.qbo.errors import InvalidReference
from core.qbo.errors import NetworkError
from core.qbo.errors import ServerError
from core.qbo.errors import StaleObject
from core.qbo.errors import ValidationFault
from costbridge_testing.sandbox import Control
from tests.core.qbo.conftest import ensure_vendor
from tests.core.qbo.conftest import expense_account


def bill_body(vendor_id: str, account_id: str, amount: str = "1250.50") -> dict[str, Any]:
    return {
        "VendorRef": {"value": vendor_id},
        "Line": [
            {
                "Amount": Decimal(amount),
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account_id}},
            }
        ],
    }


def api_calls(http: Any) -> list[dict[str, Any]]:
    return [c for c in http.calls if "/v3/company/" in str(c["url"])]


def test_every_call_pins_minorversion_and_sends_json_headers(
    qbo_client: QboClient, http: Any
) -> None:
    qbo_client.company_info()
    qbo_client.query("SELECT * FROM Vendor")
    for call in api_calls(http):
        assert call["params"]["minorversion"] == "75"
        assert call["headers"]["Accept"] == "application/json"
        assert "Content-Type" in call["headers"]


def test_writes_carry_a_requestid_and_reads_do_not(qbo_client: QboClient, http: Any) -> None:
    key = "0123456789abcdef0123456789abcdef0123"  # an outbox key: 36 characters
    qbo_client.create("Vendor", {"DisplayName": "Hillside Lumber Supply"}, request_id=key)
    qbo_client.query("SELECT * FROM Vendor")
    write, read = api_calls(http)
    assert write["params"]["requestid"] == key
    assert "requestid" not in read["params"]


def test_a_write_without_a_requestid_is_refused_before_anything_is_sent(
    qbo_client: QboClient, http: Any
) -> None:
    with pytest.raises(TypeError):
        qbo_client.create("Vendor", {"DisplayName": "No Key Supply"})  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="requestid"):
        qbo_client.create("Vendor", {"DisplayName": "No Key Supply"}, request_id="")
    with pytest.raises(ValueError, match="requestid"):
        qbo_client.batch([{"bId": "1", "Query": "SELECT * FROM Vendor"}], request_id="")
    assert api_calls(http) == []


@pytest.mark.parametrize("fault", [{"status": 503}, {"drop_connection": True}])
@pytest.mark.parametrize("honour", [True, False])
def test_a_write_whose_answer_is_lost_is_not_sent_again_blindly(
    qbo_client: QboClient,
    http: Any,
    sandbox_control: Control,
    fault: dict[str, Any],
    honour: bool,
) -> None:
    # QBO commits, then the answer is lost. Intuit's requestid replay is not guaranteed, so the
    # write is not resent here: the caller learns the outcome is unknown (TryLater) and looks
    # its marker up first. Resending here made a second vendor whenever QBO forgot the id.
    sandbox_control.honour_request_ids(honour)
    sandbox_control.faults(count=1, phase="after", paths=["vendor"], **fault)
    with pytest.raises(TryLater):
        qbo_client.create(
            "Vendor", {"DisplayName": "Keystone Concrete"}, request_id=uuid.uuid4().hex
        )
    writes = [c for c in api_calls(http) if c["method"] == "POST"]
    assert len(writes) == 1
    found = qbo_client.query("SELECT * FROM Vendor WHERE DisplayName = 'Keystone Concrete'")
    assert len(found["Vendor"]) == 1


def test_a_write_that_never_reached_quickbooks_is_retried(
    qbo_runtime: Any, realm_id: str, token_manager: Any, http: Any
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: every connection is refused
    client = QboClient(
        realm_id,
        token_manager,
        base_url=f"http://127.0.0.1:{port}",
        http=http,
        sleep=lambda _s: None,
    )
    with pytest.raises(NetworkError) as caught:
        client.create("Vendor", {"DisplayName": "Refused Supply"}, request_id=uuid.uuid4().hex)
    assert caught.value.sent is False
    assert len(api_calls(http)) == client.max_attempts


def test_a_caller_supplied_requestid_is_sent_verbatim(qbo_client: QboClient, http: Any) -> None:
    first = qbo_client.create(
        "Vendor", {"DisplayName": "Summit Roofing"}, request_id="outbox-17-v1"
    )
    again = qbo_client.create(
        "Vendor", {"DisplayName": "Summit Roofing"}, request_id="outbox-17-v1"
    )
    assert api_calls(http)[0]["params"]["requestid"] == "outbox-17-v1"
    assert again["Id"] == first["Id"]


def test_money_round_trips_as_decimal(qbo_client: QboClient) -> None:
    vendor = ensure_vendor(qbo_client, "Decimal Supply")
    bill = qbo_client.create(
        "Bill",
        bill_body(vendor["Id"], expense_account(qbo_client), "1250.10"),
        request_id=uuid.uuid4().hex,
    )
    assert bill["TotalAmt"] == Decimal("1250.10")
    assert isinstance(bill["Line"][0]["Amount"], Decimal)


def test_stale_synctoken_is_a_stale_object_rejection(qbo_client: QboClient) -> None:
    vendor = ensure_vendor(qbo_client, "Stale Lumber")
    qbo_client.update(
        "Vendor",
        {"Id": vendor["Id"], "SyncToken": vendor["SyncToken"], "CompanyName": "Stale Lumber Co"},
        sparse=True,
        request_id=uuid.uuid4().hex,
    )
    with pytest.raises(StaleObject) as caught:
        qbo_client.update(
            "Vendor",
            {
                "Id": vendor["Id"],
                "SyncToken": vendor["SyncToken"],
                "CompanyName": "Stale Lumber Inc",
            },
            sparse=True,
            request_id=uuid.uuid4().hex,
        )
    err = caught.value
    assert isinstance(err, Rejected)
    assert err.code == "5010"
    assert err.intuit_tid
    assert "changed this record" in err.message


def test_duplicate_name_is_its_own_rejection(qbo_client: QboClient) -> None:
    ensure_vendor(qbo_client, "Twin Pines Framing")
    with pytest.raises(DuplicateName) as caught:
        qbo_client.create(
            "Vendor", {"DisplayName": "Twin Pines Framing"}, request_id=uuid.uuid4().hex
        )
    assert caught.value.code == "6240"
    assert isinstance(caught.value, Rejected)


def test_invalid_reference_names_the_field(qbo_client: QboClient) -> None:
    with pytest.raises(InvalidReference) as caught:
        qbo_client.create(
            "Bill", bill_body("999999", expense_account(qbo_client)), request_id=uuid.uuid4().hex
        )
    assert caught.value.code in ("610", "2500")
    assert isinstance(caught.value, Rejected)


def test_missing_required_field_is_a_validation_fault(qbo_client: QboClient) -> None:
    vendor = ensure_vendor(qbo_client, "Validation Vendor")
    with pytest.raises(ValidationFault) as caught:
        qbo_client.create(
            "Bill", {"VendorRef": {"value": vendor["Id"]}}, request_id=uuid.uuid4().hex
        )
    assert caught.value.code == "2020"
    assert caught.value.element


def test_401_refreshes_once_then_retries_once(
    qbo_client: QboClient, sandbox_control: Control, http: Any
) -> None:
    before = sandbox_control.oauth()["token_calls"].get("refresh_token", 0)
    sandbox_control.faults(status=401, count=1)
    assert qbo_client.company_info()["CompanyName"]
    assert sandbox_control.oauth()["token_calls"].get("refresh_token", 0) == before + 1
    assert [c.get("status") for c in api_calls(http)] == [401, 200]


def test_a_second_401_is_an_authentication_failure_for_the_admin(
    qbo_client: QboClient, sandbox_control: Control
) -> None:
    sandbox_control.faults(status=401, count=2)
    with pytest.raises(AuthenticationFailed) as caught:
        qbo_client.company_info()
    assert isinstance(caught.value, NeedsAdmin)
    assert "reconnect" in caught.value.fix.lower()


def test_authorization_failure_code_120_needs_an_admin(
    qbo_client: QboClient, sandbox_control: Control
) -> None:
    sandbox_control.faults(fault_code="120", count=2)
    with pytest.raises(AuthenticationFailed):
        qbo_client.company_info()


def test_server_errors_are_retried_with_backoff(
    qbo_client: QboClient, sandbox_control: Control, http: Any
) -> None:
    sandbox_control.faults(status=503, count=2)
    assert qbo_client.company_info()
    assert [c.get("status") for c in api_calls(http)] == [503, 503, 200]


def test_dropped_connections_are_retried(
    qbo_client: QboClient, sandbox_control: Control, http: Any
) -> None:
    sandbox_control.faults(drop_connection=True, count=1)
    assert qbo_client.company_info()
    assert api_calls(http)[0].get("error")


def test_server_errors_that_persist_become_try_later(
    qbo_client: QboClient, sandbox_control: Control
) -> None:
    sandbox_control.faults(status=500, count=10)
    with pytest.raises(ServerError) as caught:
        qbo_client.company_info()
    assert isinstance(caught.value, TryLater)


def test_a_429_waits_what_retry_after_says(
    qbo_client: QboClient, sandbox_control: Control, http: Any
) -> None:
    sandbox_control.faults(status=429, count=1, retry_after=1)
    qbo_client.company_info()
    first, second = api_calls(http)
    assert first["status"] == 429
    assert second["sent"] - first["received"] >= 1.0


def test_intuit_tid_is_logged(qbo_client: QboClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="core.qbo.client"):
        qbo_client.company_info()
    assert any(
        "intuit_tid=" in r.getMessage() and "intuit_tid= " not in r.getMessage()
        for r in caplog.records
    )


def test_cdc_returns_each_entity_with_deleted_stubs(qbo_client: QboClient) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    vendor = ensure_vendor(qbo_client, "CDC Vendor")
    account = expense_account(qbo_client)
    keep = qbo_client.create(
        "Bill", bill_body(vendor["Id"], account, "10.00"), request_id=uuid.uuid4().hex
    )
    gone = qbo_client.create(
        "Bill", bill_body(vendor["Id"], account, "20.00"), request_id=uuid.uuid4().hex
    )
    qbo_client.delete("Bill", gone["Id"], gone["SyncToken"], request_id=uuid.uuid4().hex)
    result = qbo_client.cdc(["Bill", "Vendor", "Purchase"], since)
    assert set(result.changes) >= {"Bill", "Vendor", "Purchase"}
    assert result.changes["Purchase"] == []
    assert keep["Id"] in {b["Id"] for b in result.changes["Bill"]}
    assert [s["Id"] for s in result.deleted("Bill")] == [gone["Id"]]
    assert vendor["Id"] in {v["Id"] for v in result.changes["Vendor"]}


def test_batch_splits_into_thirties_and_matches_results_by_bid(
    qbo_client: QboClient, http: Any
) -> None:
    items = [
        {"bId": f"v{i}", "operation": "create", "Vendor": {"DisplayName": f"Batch Vendor {i}"}}
        for i in range(31)
    ]
    items.append({"bId": "dup", "operation": "create", "Vendor": {"DisplayName": "Batch Vendor 3"}})
    results = qbo_client.batch(items, request_id=uuid.uuid4().hex)
    posts = [c for c in api_calls(http) if str(c["url"]).endswith("/batch")]
    assert len(posts) == 2
    assert all(len(c["params"]["requestid"]) <= 36 for c in posts)
    assert results["v30"].ok
    assert results["v30"].entity_name == "Vendor"
    assert results["v30"].entity["DisplayName"] == "Batch Vendor 30"  # type: ignore[index]
    assert isinstance(results["dup"].error, DuplicateName)


def test_attachment_upload_then_download_returns_the_same_bytes(qbo_client: QboClient) -> None:
    vendor = ensure_vendor(qbo_client, "Attach Vendor")
    bill = qbo_client.create(
        "Bill", bill_body(vendor["Id"], expense_account(qbo_client)), request_id=uuid.uuid4().hex
    )
    content = b"%PDF-1.4\n% costbridge test\n" + bytes(range(256)) * 4
    attachable = qbo_client.upload(
        "INV-88412.pdf",
        content,
        "application/pdf",
        attach_to=[("Bill", bill["Id"])],
        request_id=uuid.uuid4().hex,
    )
    assert attachable["FileName"] == "INV-88412.pdf"
    assert attachable["AttachableRef"][0]["EntityRef"]["value"] == bill["Id"]
    assert qbo_client.download(attachable["Id"]) == content
