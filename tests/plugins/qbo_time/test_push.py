"""The time push mapper, without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import plugins.qbo_time as qbo_time
from core.contracts import LocalTimeEntry
from core.contracts import PushLookups
from core.errors import NeedsAdmin
from plugins.qbo_time import push

D = Decimal


def entry(**changes: object) -> LocalTimeEntry:
    values: dict[str, object] = {
        "id": 5,
        "employee_id": 2,
        "employee_name": "Dana Ortiz",
        "cost_code_id": 11,
        "work_date": dt.date(2026, 3, 3),
        "hours": D("7.75"),
        "billable": True,
        "description": "Framing, east wall",
        "created_at": dt.datetime(2026, 3, 3, 23, 0, tzinfo=dt.UTC),
        "cost_rate": D("42"),
        "hourly_rate": D("85"),
    }
    values.update(changes)
    return LocalTimeEntry(**values)  # type: ignore[arg-type]


def lookups(**changes: object) -> PushLookups:
    values: dict[str, object] = {
        "customer_id": "58",
        "employees": {2: "71"},
        "items": {11: "19"},
        "marker": "cb-abc",
    }
    values.update(changes)
    return PushLookups(**values)  # type: ignore[arg-type]


def test_push_payload_maps_a_time_entry_to_a_time_activity():
    payload = qbo_time.push_payload(entry(), lookups())
    body = payload.body
    assert payload.entity == "TimeActivity"
    assert (body["NameOf"], body["EmployeeRef"], body["CustomerRef"]) == (
        "Employee",
        {"value": "71"},
        {"value": "58"},
    )
    assert (body["Hours"], body["Minutes"]) == (7, 45)
    assert body["ItemRef"] == {"value": "19"}
    assert (body["BillableStatus"], body["HourlyRate"], body["CostRate"]) == (
        "Billable",
        D("85"),
        D("42"),
    )
    assert body["Description"] == "Framing, east wall\ncb-abc"
    assert payload.marker_field == "Description"
    assert payload.find_by == {"TxnDate": "2026-03-03", "EmployeeRef": "71"}


def test_non_billable_time_sends_no_billing_rate():
    body = push.time_activity(entry(billable=False), lookups()).body
    assert body["BillableStatus"] == "NotBillable"
    assert "HourlyRate" not in body


def test_unconnected_employee_is_refused_saying_what_to_connect():
    with pytest.raises(NeedsAdmin, match="Dana Ortiz is not connected"):
        push.time_activity(entry(), lookups(employees={}))
