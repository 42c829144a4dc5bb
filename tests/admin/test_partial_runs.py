"""A partial pull (some records could not be brought in) shows as its own state in the console."""

from __future__ import annotations

import datetime as dt

from core.models import RunState
from core.models import SyncRun
from tests.factories import make_project

MESSAGE = (
    "Pulled 12 record(s): 30 line(s) added, 0 changed, 0 removed, 0 unchanged. 1 record(s) could "
    "not be brought in, so their costs are missing: bill 145 (no. 1001)."
)


def _partial_run(db, project) -> SyncRun:
    run = SyncRun(
        company_id=project.company_id,
        project_id=project.id,
        kind="pull",
        state=RunState.PARTIAL,
        queued_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        started_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        finished_at=dt.datetime(2026, 4, 1, 0, 1, tzinfo=dt.UTC),
        message=MESSAGE,
        fix="Nothing needs changing in QuickBooks: costbridge reads it again on every sync.",
        detail="QuickBooks bill 145 (no. 1001) was not brought in: the Bills plugin could not "
        "read it. [qbo_bills: KeyError: 'Line']",
        counts={"records": 12, "added": 30, "problems": 1},
    )
    db.add(run)
    db.commit()
    return run


def test_the_sync_log_marks_a_partial_run_and_names_the_record(web_client, committed_db):
    project = make_project(committed_db, linked=True)
    run = _partial_run(committed_db, project)
    page = web_client.get("/admin/synclog/").get_data(as_text=True)
    row = page.split(f'data-run="{run.id}"')[1].split("</tr>")[0]
    assert 'class="table-warning"' in row
    assert '<span class="badge cb-run-partial">partial</span>' in row
    assert "bill 145 (no. 1001)" in row
    assert "problems 1" in row


def test_sync_expenses_stops_watching_a_run_that_ended_partial(web_client, committed_db):
    project = make_project(committed_db, linked=True)
    run = _partial_run(committed_db, project)
    body = web_client.get(f"/admin/budget/run?project_id={project.id}&id={run.id}").get_json()
    assert body["state"] == "partial"
    assert body["finished"] is True
    page = web_client.get(f"/admin/budget/?project_id={project.id}").get_data(as_text=True)
    assert "data-watch-run" not in page
    assert '<span class="badge cb-run-partial">partial</span>' in page
    assert "bill 145 (no. 1001)" in page


def test_the_home_page_lists_a_partial_pull_as_needing_attention(web_client, committed_db):
    project = make_project(committed_db, linked=True)
    run = _partial_run(committed_db, project)
    page = web_client.get("/admin/").get_data(as_text=True)
    recent = page.split("Recent failures")[1].split("</ul>")[0]
    assert f"run {run.id}</a> (pull): {MESSAGE}" in recent
    assert '<div class="small cb-partial">' in page
