"""Time entries pushed as QBO TimeActivity for the connected employee (pure mapping)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

from core.contracts import LocalTimeEntry
from core.contracts import PushLookups
from core.contracts import QboPayload
from core.errors import NeedsAdmin
from core.mapping.payloads import DESCRIPTION_MAX
from core.mapping.payloads import linked_customer
from core.mapping.payloads import ref
from core.mapping.payloads import with_marker
from core.mapping.payloads import with_remote


def time_activity(record: LocalTimeEntry, lookups: PushLookups) -> QboPayload:
    """A TimeActivity: employee, customer, item, hours and minutes, billable status, rates."""
    customer = linked_customer(lookups)
    employee = lookups.employees.get(record.employee_id)
    if employee is None:
        raise NeedsAdmin(
            f"{record.employee_name} is not connected to a QuickBooks employee.",
            fix="Open Employees, connect them to their QuickBooks employee (or import "
            "employees from QuickBooks), then send the time entry again.",
        )
    if record.hours <= 0:
        raise NeedsAdmin("This time entry has no hours.", fix="Enter the hours worked.")
    minutes_total = int((record.hours * 60).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    body: dict[str, Any] = {
        "NameOf": "Employee",
        "EmployeeRef": ref(employee),
        "CustomerRef": ref(customer),
        "TxnDate": record.work_date.isoformat(),
        "Hours": minutes_total // 60,
        "Minutes": minutes_total % 60,
        "BillableStatus": "Billable" if record.billable else "NotBillable",
        "Description": with_marker(record.description, lookups.marker, DESCRIPTION_MAX),
    }
    if record.cost_code_id is not None:
        item = lookups.items.get(record.cost_code_id)
        if item is None:
            name = lookups.cost_code_names.get(record.cost_code_id, f"#{record.cost_code_id}")
            problem = lookups.cost_code_problems.get(
                record.cost_code_id, "not connected to a QuickBooks Product/Service"
            )
            raise NeedsAdmin(
                f"Cost code {name} cannot be used in QuickBooks: {problem}.",
                fix="Open Company settings → Cost codes and connect it, then send it again.",
            )
        body["ItemRef"] = ref(item)
    if record.billable and record.hourly_rate is not None:
        body["HourlyRate"] = record.hourly_rate
    if record.cost_rate is not None:
        body["CostRate"] = record.cost_rate
    # A TimeActivity has one class and one location, both on the record itself.
    klass = record.class_id or lookups.class_id
    location = record.location_id or lookups.location_id
    if klass:
        body["ClassRef"] = ref(klass)
    if location:
        body["DepartmentRef"] = ref(location)
    # Description cannot be filtered on (API.md §11.7); the core narrows by date and employee
    # and then looks for the marker in each candidate's Description.
    return QboPayload(
        "TimeActivity",
        with_remote(body, lookups),
        marker_field="Description",
        find_by={"TxnDate": record.work_date.isoformat(), "EmployeeRef": employee},
    )
