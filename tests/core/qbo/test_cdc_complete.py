"""`BulkCalls.cdc` never returns a partial answer, however many changes a window holds (§5)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import requests

from core.qbo.bulk import BulkCalls


def _history(
    qbo_client: BulkCalls, entity: str, objects: list[dict[str, Any]], **kw: Any
) -> list[str]:
    """Write past changes straight into the sandbox company (control API, no throttle)."""
    resp = requests.post(
        f"{qbo_client.base_url}/_sandbox/history",
        json={"realm_id": qbo_client.realm_id, "entity": entity, "objects": objects, **kw},
        timeout=60,
    )
    assert resp.status_code == 200, resp.text
    return [str(i) for i in resp.json()["ids"]]


def _bill(vendor_id: str, account_id: str, n: int) -> dict[str, Any]:
    return {
        "VendorRef": {"value": vendor_id},
        "DocNumber": f"B-{n}",
        "Line": [
            {
                "Amount": "10.00",
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account_id}},
            }
        ],
    }


def test_cdc_over_more_than_1000_changes_across_entities_loses_nothing(qbo_client: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(hours=3)
    vendor = qbo_client.create(
        "Vendor", {"DisplayName": "Cdc Complete Vendor"}, request_id=uuid.uuid4().hex
    )
    account = qbo_client.query(
        "SELECT * FROM Account WHERE AccountType = 'Cost of Goods Sold' MAXRESULTS 1"
    )["Account"][0]["Id"]
    start = (now - dt.timedelta(hours=2)).isoformat()
    # Vendor alone is over the cap (a one-entity window must be walked), and together the
    # three are far over it (the entity list must be split).
    vendors = _history(
        qbo_client,
        "Vendor",
        [{"DisplayName": f"History Vendor {n}"} for n in range(1150)],
        start=start,
        step=1,
    )
    customers = _history(
        qbo_client,
        "Customer",
        [{"DisplayName": f"History Customer {n}"} for n in range(400)],
        start=start,
        step=2,
    )
    bills = _history(
        qbo_client,
        "Bill",
        [_bill(vendor["Id"], account, n) for n in range(300)],
        start=start,
        step=3,
        delete=list(range(0, 300, 10)),
    )
    deleted = {bills[i] for i in range(0, 300, 10)}

    result = qbo_client.cdc(["Bill", "Vendor", "Customer", "Purchase"], since)

    got_vendors = {v["Id"] for v in result.changes["Vendor"]}
    assert got_vendors >= set(vendors) | {vendor["Id"]}
    assert {c["Id"] for c in result.changes["Customer"]} >= set(customers)
    assert {b["Id"] for b in result.changes["Bill"]} == set(bills)
    assert {s["Id"] for s in result.deleted("Bill")} == deleted
    assert result.changes["Purchase"] == []
    for rows in result.changes.values():
        assert len({r["Id"] for r in rows}) == len(rows)


def test_cdc_under_the_cap_is_one_call(qbo_client: Any, http: Any) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    vendor = qbo_client.create(
        "Vendor", {"DisplayName": "Cdc Small Vendor"}, request_id=uuid.uuid4().hex
    )
    result = qbo_client.cdc(["Vendor", "Bill"], since)
    assert [v["Id"] for v in result.changes["Vendor"]] == [vendor["Id"]]
    assert result.changes["Bill"] == []
    assert len([c for c in http.calls if str(c["url"]).endswith("/cdc")]) == 1
