"""Time entries: pushed only when created after time tracking was turned on (never before)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from freezegun import freeze_time

from core.project_settings import save_settings
from core.push import records
from tests.core.push.conftest import send

D = Decimal


def test_time_entry_created_before_the_toggle_is_never_pushed_and_one_after_is(
    qbo_runtime, committed_db, books, project_factory
):
    with freeze_time("2026-03-02 08:00:00", tick=True):
        project = project_factory({}, customer_id=books.customer_id)
        before, none = records.add_time_entry(
            committed_db,
            qbo_runtime.pm,
            project,
            employee=books.employee,
            work_date=dt.date(2026, 3, 2),
            hours=D("8"),
        )
        assert none == []
        committed_db.commit()
    with freeze_time("2026-03-03 08:00:00", tick=True):
        assert save_settings(qbo_runtime.pm, committed_db, project, {"time_tracking": True}) == []
        committed_db.commit()
        # Editing an entry from before the toggle does not push it either (never retroactive).
        assert records.edit_time_entry(committed_db, qbo_runtime.pm, before, hours=D("7.5")) == []
    with freeze_time("2026-03-03 17:30:00", tick=True):
        after, entries = records.add_time_entry(
            committed_db,
            qbo_runtime.pm,
            project,
            employee=books.employee,
            work_date=dt.date(2026, 3, 3),
            hours=D("7.75"),
            cost_code_id=books.framing.id,
            billable=False,
        )
        send(qbo_runtime, committed_db, entries)
    activities = books.client.query("SELECT * FROM TimeActivity").get("TimeActivity", [])
    assert [a["Id"] for a in activities] == [
        records.qbo_id_of(committed_db, "time_entry", after.id)
    ]
    pushed = activities[0]
    assert (pushed["Hours"], pushed["Minutes"], pushed["BillableStatus"]) == (7, 45, "NotBillable")
    assert pushed["EmployeeRef"]["value"] == books.employee.qbo_employee_id
    assert pushed["ItemRef"]["value"] == books.framing.qbo_item_id
    assert records.qbo_id_of(committed_db, "time_entry", before.id) is None
