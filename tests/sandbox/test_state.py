"""Sandbox and Realm used directly: the seed's API (back-dated writes, seeding) and counters."""

from __future__ import annotations

import threading
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from sandbox.state import Realm
from sandbox.state import Sandbox

NOW = datetime(2026, 3, 10, 18, 30, tzinfo=UTC)


@pytest.fixture
def realm() -> Realm:
    sb = Sandbox()
    sb.clock.freeze(NOW)
    return sb.add_realm("123456789012345")


def _events(realm: Realm) -> list[tuple[str, str, str, datetime]]:
    seen: list[tuple[str, str, str, datetime]] = []
    realm.sb.add_change_listener(lambda _r, entity, id_, op, at: seen.append((entity, id_, op, at)))
    return seen


def _bill(realm: Realm) -> dict[str, object]:
    vendor = realm.insert("Vendor", {"DisplayName": "Hillside Lumber"})
    account = realm.insert("Account", {"Name": "Lumber", "AccountType": "Cost of Goods Sold"})
    return {
        "VendorRef": {"value": vendor["Id"]},
        "Line": [
            {
                "Amount": 10,
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account["Id"]}},
            }
        ],
    }


def test_insert_records_the_create_and_update_times_given(realm: Realm) -> None:
    created, updated = NOW - timedelta(days=30), NOW - timedelta(days=2)
    obj = realm.insert("Term", {"Name": "Net 30"}, created=created, updated=updated)
    clock = realm.sb.clock
    assert obj["MetaData"] == {
        "CreateTime": clock.local_iso(created),
        "LastUpdatedTime": clock.local_iso(updated),
    }
    assert realm.changed_at["Term"][obj["Id"]] == updated
    plain = realm.insert("Term", {"Name": "Net 15"}, created=created)
    assert plain["MetaData"]["LastUpdatedTime"] == plain["MetaData"]["CreateTime"]


def test_delete_and_void_record_the_time_given(realm: Realm) -> None:
    bill = realm.create("Bill", _bill(realm))
    at = NOW - timedelta(days=3)
    realm.delete("Bill", {"Id": bill["Id"], "SyncToken": "0"}, at=at)
    assert realm.changed_at["Bill"][bill["Id"]] == at
    stub = realm.deleted["Bill"][bill["Id"]]
    assert stub["MetaData"]["LastUpdatedTime"] == realm.sb.clock.local_iso(at)


def test_writes_while_seeding_notify_nobody(realm: Realm) -> None:
    seen = _events(realm)
    realm.seeding = True
    bill = realm.insert("Bill", _bill(realm))
    realm.delete("Bill", {"Id": bill["Id"], "SyncToken": "0"}, at=NOW - timedelta(hours=1))
    realm.seeding = False
    assert seen == []
    realm.create("Bill", _bill(realm))
    assert [op for _, _, op, _ in seen] == ["Create"]


def test_attach_file_takes_a_create_time_only_while_seeding(realm: Realm) -> None:
    bill = realm.insert("Bill", _bill(realm))
    meta = {"AttachableRef": [{"EntityRef": {"type": "Bill", "value": bill["Id"]}}]}
    with pytest.raises(ValueError, match="seeding"):
        realm.attach_file(meta, "a.txt", "text/plain", b"x", created=NOW)
    realm.seeding = True
    at = NOW - timedelta(days=1)
    att = realm.attach_file(meta, "a.txt", "text/plain", b"x", created=at)
    realm.seeding = False
    stored = realm.get("Attachable", att["Id"])
    assert stored is not None
    assert stored["MetaData"]["CreateTime"] == realm.sb.clock.local_iso(at)
    assert "TempDownloadUri" not in stored
    assert att["TempDownloadUri"].endswith("/a.txt")


def test_counters_lose_no_increment_under_threads() -> None:
    sb = Sandbox()

    def bump() -> None:
        for _ in range(2000):
            sb.count("requests")

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sb.counters_snapshot()["requests"] == 16_000
