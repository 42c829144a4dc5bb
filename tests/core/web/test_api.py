"""The read API (`/api/v1`): tokens only, the console's figures, filters, paging, CSV, OpenAPI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from decimal import Decimal
from typing import Any

import pytest
from freezegun import freeze_time
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import update

from core.api_tokens import create_token
from core.models import Actual
from core.models import ApiToken
from core.models import BudgetLine
from core.models import User
from core.runtime import Runtime
from core.sync.reports import budget
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from costbridge_testing.services import web_app
from tests.factories import make_company
from tests.factories import make_cost_code
from tests.factories import make_project

_line = itertools.count(1)


def add_actual(
    session,
    project,
    amount: str,
    *,
    day: dt.date = dt.date(2025, 6, 30),
    code=None,
    kind: str = "bill",
    excluded: str | None = None,
    payee: str = "Hillside Lumber Supply",
) -> Actual:
    n = next(_line)
    row = Actual(
        realm_id="9130",
        qbo_entity="Bill",
        qbo_id=str(1000 + n),
        qbo_line_id="1",
        plugin="qbo_bills",
        project_id=project.id,
        customer_ref="58",
        cost_code_id=code.id if code is not None else None,
        actual_type=kind,
        txn_date=day,
        payee=payee,
        amount=Decimal(amount),
        excluded_reason=excluded,
    )
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def books(committed_db):
    """A project with two cost codes, budget lines and actuals of several types and dates."""
    company = make_company(committed_db)
    project = make_project(committed_db, company, linked=True, name="Harbor Lofts")
    framing = make_cost_code(committed_db, company, code="06-100", name="Framing")
    finish = make_cost_code(committed_db, company, code="06-200", name="Finish Carpentry")
    committed_db.add_all(
        [
            BudgetLine(project_id=project.id, cost_code_id=framing.id, budget_amount=Decimal(5000)),
            BudgetLine(project_id=project.id, cost_code_id=finish.id, budget_amount=Decimal(900)),
        ]
    )
    add_actual(committed_db, project, "1200.50", day=dt.date(2025, 5, 2), code=framing)
    add_actual(committed_db, project, "310.25", day=dt.date(2025, 5, 20), code=finish)
    add_actual(
        committed_db, project, "-50.00", day=dt.date(2025, 6, 1), code=framing, kind="vendor_credit"
    )
    add_actual(committed_db, project, "75.10", day=dt.date(2025, 6, 3), kind="expense")
    add_actual(
        committed_db,
        project,
        "999.99",
        day=dt.date(2025, 6, 4),
        code=framing,
        excluded="Not billable, and the project leaves out non-billable lines.",
    )
    other = make_project(committed_db, company, name="Someone else's")
    add_actual(committed_db, other, "1.00")
    committed_db.commit()
    return {"project": project, "framing": framing, "finish": finish, "other": other}


@pytest.fixture
def api(runtime: Runtime):
    with web_app(runtime) as app:
        yield app


@pytest.fixture
def reader(runtime: Runtime, committed_db) -> dict[str, Any]:
    """A viewer with an API token."""
    user_id = add_user(runtime.sessions, "reader@example.com", "viewer")
    with runtime.sessions() as session:
        made = create_token(session, session.get(User, user_id), "Reports")
        session.commit()
        return {"user_id": user_id, "token_id": made.token.id, "secret": made.secret}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def get(api, path: str, secret: str, **kw: Any):
    return api.test_client().get(path, headers={**bearer(secret), **kw.pop("headers", {})}, **kw)


# -- who may call ------------------------------------------------------------------------------


def test_a_request_without_a_token_is_401_with_a_bearer_challenge(api, books) -> None:
    resp = api.test_client().get(f"/api/v1/projects/{books['project'].id}/budget")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="costbridge"'
    assert resp.json["error"]["message"] == "This needs an API token."
    assert "Authorization: Bearer TOKEN" in resp.json["error"]["fix"]
    assert "Set-Cookie" not in resp.headers


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-token",
        "Bearer cbt_short",
        "Bearer cbt_" + "A" * 42 + "!",
        "Bearer cbt_" + "A" * 43,  # well formed, but no such token
    ],
)
def test_a_malformed_or_unknown_token_is_401_invalid_token(api, books, reader, header) -> None:
    resp = api.test_client().get("/api/v1/projects", headers={"Authorization": header})
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith('Bearer realm="costbridge", error="invalid')
    assert resp.json["error"]["code"] == "invalid_token"
    assert "Harbor Lofts" not in resp.get_data(as_text=True)


def test_basic_credentials_are_refused(api, books, reader) -> None:
    resp = api.test_client().get(
        "/api/v1/projects", headers={"Authorization": "Basic cmVhZGVyOnNlY3JldA=="}
    )
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "invalid_request"


def test_a_revoked_token_stops_working_at_once(api, books, reader, runtime) -> None:
    assert get(api, "/api/v1/projects", reader["secret"]).status_code == 200
    from core.api_tokens import revoke_token

    with runtime.sessions() as session:
        revoke_token(session, reader["token_id"], by="test")
        session.commit()
    resp = get(api, "/api/v1/projects", reader["secret"])
    assert resp.status_code == 401
    assert resp.json["error"]["message"] == "This API token was revoked."


def test_a_disabled_users_token_stops_working(api, books, reader, runtime) -> None:
    with runtime.sessions() as session:
        session.execute(update(User).where(User.id == reader["user_id"]).values(active=False))
        session.commit()
    resp = get(api, "/api/v1/projects", reader["secret"])
    assert resp.status_code == 401
    assert resp.json["error"]["message"] == "The user of this API token is disabled."


def test_a_token_with_another_scope_is_403(api, books, reader, runtime) -> None:
    with runtime.sessions() as session:
        session.execute(
            update(ApiToken).where(ApiToken.id == reader["token_id"]).values(scope="write")
        )
        session.commit()
    resp = get(api, "/api/v1/projects", reader["secret"])
    assert resp.status_code == 403
    assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]


def test_a_signed_in_console_cookie_does_not_open_the_api(api, books, runtime) -> None:
    admin_id = add_user(runtime.sessions, "boss@example.com", "admin")
    browser = sign_in(api.test_client(), runtime.sessions, admin_id)
    assert browser.get("/admin/").status_code == 200
    resp = browser.get("/api/v1/projects")
    assert resp.status_code == 401
    assert "Set-Cookie" not in resp.headers  # not even the refresh of the permanent session


def test_only_the_token_is_stored_as_a_hash_and_its_use_is_recorded(
    api, books, reader, runtime
) -> None:
    with freeze_time("2025-07-01 09:00:00"):
        assert get(api, "/api/v1/projects", reader["secret"]).status_code == 200
    with freeze_time("2025-07-01 09:00:30"):
        assert get(api, "/api/v1/projects", reader["secret"]).status_code == 200
    with runtime.sessions() as session:
        token = session.get(ApiToken, reader["token_id"])
        assert reader["secret"] not in (token.token_hash, token.hint, token.name)
        assert token.hint == reader["secret"][:12]
        # Recorded once a minute at most: the second call inside the minute wrote nothing.
        assert token.last_used_at == dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.UTC)
    with freeze_time("2025-07-01 09:02:00"):
        assert get(api, "/api/v1/projects", reader["secret"]).status_code == 200
    with runtime.sessions() as session:
        token = session.get(ApiToken, reader["token_id"])
        assert token.last_used_at == dt.datetime(2025, 7, 1, 9, 2, tzinfo=dt.UTC)


def test_the_api_does_not_answer_on_a_public_host(runtime, books, reader) -> None:
    rt = Runtime(
        settings=runtime.settings.with_overrides({"public_hosts": ("hooks.example.com",)}),
        engine=runtime.engine,
        pm=runtime.pm,
    )
    with web_app(rt) as app:
        resp = app.test_client().get(
            "/api/v1/projects",
            base_url="https://hooks.example.com",
            headers=bearer(reader["secret"]),
        )
        assert resp.status_code == 404
        assert "Harbor Lofts" not in resp.get_data(as_text=True)


# -- what it answers ---------------------------------------------------------------------------


def test_projects_list_the_visible_projects(api, books, reader) -> None:
    resp = get(api, "/api/v1/projects", reader["secret"])
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    names = [p["name"] for p in resp.json["projects"]]
    assert names == ["Harbor Lofts", "Someone else's"]
    first = resp.json["projects"][0]
    assert first["linked"] is True
    assert first["currency"] == "USD"
    assert resp.json["next_cursor"] is None


def test_the_budget_is_the_reports_budget_to_the_cent(api, books, reader, runtime) -> None:
    project = books["project"]
    resp = get(api, f"/api/v1/projects/{project.id}/budget", reader["secret"])
    assert resp.status_code == 200
    with runtime.sessions() as session:
        expected = budget(session, session.get(type(project), project.id)).as_json()
    assert resp.json == expected
    assert resp.json["total_actual"] == "1535.85"  # the excluded 999.99 does not count
    assert resp.json["total_budget"] == "5900.00"
    assert resp.json["totals_by_type"] == {
        "bill": "1510.75",
        "expense": "75.10",
        "vendor_credit": "-50.00",
    }


def test_an_unknown_project_is_404_in_json(api, books, reader) -> None:
    for path in ("/api/v1/projects/999999/budget", "/api/v1/projects/999999/actuals"):
        resp = get(api, path, reader["secret"])
        assert resp.status_code == 404
        assert resp.json["error"]["message"] == "There is no project 999999 you may read."
    assert get(api, "/api/v1/projects/abc/budget", reader["secret"]).status_code == 404
    assert get(api, "/api/v1/nothing", reader["secret"]).json["error"]["code"] == "not_found"


def test_writing_is_not_allowed(api, books, reader) -> None:
    resp = api.test_client().post(
        f"/api/v1/projects/{books['project'].id}/budget", headers=bearer(reader["secret"])
    )
    assert resp.status_code == 405
    assert resp.json["error"]["code"] == "method_not_allowed"


# -- actual lines: filters ---------------------------------------------------------------------


def actuals(api, reader, project, query: str = "", **kw: Any):
    return get(api, f"/api/v1/projects/{project.id}/actuals{query}", reader["secret"], **kw)


def test_actuals_default_to_the_lines_that_count_newest_first(api, books, reader) -> None:
    body = actuals(api, reader, books["project"]).json
    assert [line["amount"] for line in body["lines"]] == ["75.10", "-50.00", "310.25", "1200.50"]
    assert body["count"] == 4
    assert body["total_amount"] == "1535.85"
    assert body["lines"][0]["cost_code"] == "UNCODED"
    assert body["lines"][1]["cost_code"] == "06-100"
    assert all(line["counted"] for line in body["lines"])


def test_actuals_filter_by_cost_code_type_and_dates(api, books, reader) -> None:
    project = books["project"]
    by_code = actuals(api, reader, project, "?cost_code=06-100").json
    assert [line["amount"] for line in by_code["lines"]] == ["-50.00", "1200.50"]
    assert by_code["total_amount"] == "1150.50"
    several = actuals(api, reader, project, "?cost_code=06-200&cost_code=UNCODED").json
    assert [line["amount"] for line in several["lines"]] == ["75.10", "310.25"]
    by_type = actuals(api, reader, project, "?type=vendor_credit").json
    assert [line["actual_type"] for line in by_type["lines"]] == ["vendor_credit"]
    in_may = actuals(api, reader, project, "?from=2025-05-01&to=2025-05-31").json
    assert [line["txn_date"] for line in in_may["lines"]] == ["2025-05-20", "2025-05-02"]
    assert in_may["filters"]["from"] == "2025-05-01"


def test_actuals_show_excluded_lines_only_when_asked(api, books, reader) -> None:
    project = books["project"]
    left_out = actuals(api, reader, project, "?excluded=true").json
    assert [line["amount"] for line in left_out["lines"]] == ["999.99"]
    assert left_out["lines"][0]["counted"] is False
    assert left_out["lines"][0]["excluded_reason"].startswith("Not billable")
    assert actuals(api, reader, project, "?excluded=all").json["count"] == 5


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("?from=2025-13-01", "from “2025-13-01” is not a date."),
        ("?to=yesterday", "to “yesterday” is not a date."),
        ("?from=2025-06-02&to=2025-06-01", "from (2025-06-02) is after to (2025-06-01)."),
        ("?cost_code=99-999", "This project's company has no cost code “99-999”."),
        ("?type=lumber", "There is no actual type “lumber”."),
        ("?type=DROP%20TABLE", "type “DROP TABLE” is not an actual type's name."),
        ("?excluded=maybe", "excluded “maybe” is not one of false, true, all."),
        ("?limit=0", "limit “0” is not a page size from 1 to 500."),
        ("?limit=501", "limit “501” is not a page size from 1 to 500."),
        ("?cursor=garbage", "That cursor is not one this API gave out."),
        ("?format=xml", "format “xml” is neither json nor csv."),
    ],
)
def test_a_bad_filter_is_400_saying_what_is_wrong(api, books, reader, query, words) -> None:
    resp = actuals(api, reader, books["project"], query)
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "bad_parameter"
    assert resp.json["error"]["message"] == words
    assert resp.json["error"]["fix"]


# -- paging ------------------------------------------------------------------------------------


def walk(
    api, reader, path: str, key: str, query: str = "", cursor: str | None = None
) -> list[dict[str, Any]]:
    """Every row of a paged list from `cursor` on, following next_cursor."""
    rows: list[dict[str, Any]] = []
    for _ in range(100):
        sep = "&" if query else "?"
        url = path + query + (f"{sep}cursor={cursor}" if cursor else "")
        body = get(api, url, reader["secret"]).json
        rows += body[key]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("paging did not end")


@pytest.fixture
def many(committed_db, books):
    """37 more lines of the project, several on each day (ties broken by id)."""
    project = books["project"]
    for n in range(37):
        add_actual(committed_db, project, f"{n + 1}.00", day=dt.date(2025, 4, 1 + n % 9))
    committed_db.commit()
    return project


def test_walking_every_page_gives_each_line_once(api, reader, many) -> None:
    path = f"/api/v1/projects/{many.id}/actuals"
    rows = walk(api, reader, path, "lines", "?limit=5")
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 41
    assert sorted(ids) == sorted(r["id"] for r in walk(api, reader, path, "lines", "?limit=500"))
    keys = [(r["txn_date"], r["id"]) for r in rows]
    assert keys == sorted(keys, reverse=True)


def test_lines_added_while_paging_neither_repeat_nor_skip_the_rest(
    api, reader, many, committed_db
) -> None:
    path = f"/api/v1/projects/{many.id}/actuals"
    first = get(api, path + "?limit=10", reader["secret"]).json
    before = {r["id"] for r in walk(api, reader, path, "lines", "?limit=500")}
    # A newer line arrives between pages: it sorts before the cursor, so it is not on a later page.
    late = add_actual(committed_db, many, "5.55", day=dt.date(2025, 7, 1))
    committed_db.commit()
    rest = walk(api, reader, path, "lines", "?limit=7", cursor=first["next_cursor"])
    seen = [r["id"] for r in first["lines"]] + [r["id"] for r in rest]
    assert len(seen) == len(set(seen))
    assert set(seen) == before
    assert late.id not in seen


def test_a_cursor_of_other_filters_is_refused(api, reader, many) -> None:
    path = f"/api/v1/projects/{many.id}/actuals"
    cursor = get(api, path + "?limit=2", reader["secret"]).json["next_cursor"]
    resp = get(api, f"{path}?limit=2&type=bill&cursor={cursor}", reader["secret"])
    assert resp.status_code == 400
    assert resp.json["error"]["message"] == "That cursor belongs to a query with other filters."


def test_projects_page_by_id(api, reader, committed_db, books) -> None:
    for n in range(6):
        make_project(committed_db, name=f"Extra {n}")
    committed_db.commit()
    rows = walk(api, reader, "/api/v1/projects", "projects", "?limit=3")
    ids = [p["id"] for p in rows]
    assert ids == sorted(set(ids))
    assert len(ids) == 8


# -- CSV ---------------------------------------------------------------------------------------


def test_the_budget_in_csv_is_the_cli_s_csv(api, books, reader) -> None:
    project = books["project"]
    by_param = get(api, f"/api/v1/projects/{project.id}/budget?format=csv", reader["secret"])
    by_accept = get(
        api,
        f"/api/v1/projects/{project.id}/budget",
        reader["secret"],
        headers={"Accept": "text/csv"},
    )
    assert by_param.mimetype == by_accept.mimetype == "text/csv"
    assert by_param.data == by_accept.data
    rows = list(csv.reader(io.StringIO(by_param.get_data(as_text=True))))
    assert rows[0] == ["code", "name", "budgeted", "actual", "variance"]
    assert rows[1] == ["06-100", "Framing", "5000.00", "1150.50", "3849.50"]
    assert rows[-2][0] == "UNCODED"
    assert rows[-1] == ["TOTAL", "", "5900.00", "1535.85", "4364.15"]


def test_actuals_in_csv_page_with_a_link_header(api, books, reader) -> None:
    project = books["project"]
    resp = get(
        api, f"/api/v1/projects/{project.id}/actuals?format=csv&limit=3&type=bill", reader["secret"]
    )
    assert resp.status_code == 200
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["amount"] for r in rows] == ["310.25", "1200.50"]
    assert rows[0]["counted"] == "true"
    assert resp.headers["X-Total-Count"] == "2"
    assert resp.headers["X-Total-Amount"] == "1510.75"
    assert "Link" not in resp.headers
    paged = get(api, f"/api/v1/projects/{project.id}/actuals?format=csv&limit=1", reader["secret"])
    link = paged.headers["Link"]
    assert link.endswith('>; rel="next"')
    following = get(api, link[1 : link.index(">")], reader["secret"])
    assert list(csv.DictReader(io.StringIO(following.get_data(as_text=True))))[0]["amount"] == (
        "-50.00"
    )


def test_csv_cells_a_spreadsheet_would_run_are_defused(api, books, reader, committed_db) -> None:
    project = books["project"]
    add_actual(committed_db, project, "-12.00", day=dt.date(2026, 1, 1), payee="=HYPERLINK(1)")
    committed_db.commit()
    resp = get(api, f"/api/v1/projects/{project.id}/actuals?format=csv&limit=1", reader["secret"])
    row = next(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert row["payee"] == "'=HYPERLINK(1)"
    assert row["amount"] == "-12.00"


def test_an_accept_header_for_neither_format_is_406(api, books, reader) -> None:
    resp = get(api, "/api/v1/projects", reader["secret"], headers={"Accept": "application/xml"})
    assert resp.status_code == 406
    assert resp.json["error"]["code"] == "not_acceptable"


# -- the OpenAPI document ----------------------------------------------------------------------


@pytest.fixture
def document(api) -> dict[str, Any]:
    resp = api.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.json


def test_the_openapi_document_validates(document) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/projects",
        "/projects/{project_id}/budget",
        "/projects/{project_id}/actuals",
        "/openapi.json",
    }
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    names = {p["name"] for p in document["components"]["parameters"].values()}
    assert names >= {"cost_code", "type", "from", "to", "excluded", "cursor", "limit", "format"}


def schema_check(document: dict[str, Any], name: str, body: Any) -> None:
    """Validate `body` against the document's component schema `name` (JSON Schema 2020-12)."""
    registry = Registry().with_resource(
        "urn:costbridge-api", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": f"urn:costbridge-api#/components/schemas/{name}"}, registry=registry
    )
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, errors[0].message


def test_real_responses_match_the_documented_schemas(api, document, books, reader) -> None:
    project = books["project"]
    secret = reader["secret"]
    schema_check(document, "ProjectList", get(api, "/api/v1/projects?limit=1", secret).json)
    schema_check(document, "Budget", get(api, f"/api/v1/projects/{project.id}/budget", secret).json)
    for query in ("", "?excluded=all&limit=2", "?type=bill&cost_code=06-100"):
        body = get(api, f"/api/v1/projects/{project.id}/actuals{query}", secret).json
        schema_check(document, "ActualList", body)
    for refused in (
        api.test_client().get("/api/v1/projects"),
        get(api, "/api/v1/projects/999999/budget", secret),
        get(api, f"/api/v1/projects/{project.id}/actuals?from=x", secret),
    ):
        schema_check(document, "Error", refused.json)


def test_a_schema_check_fails_on_a_field_the_document_does_not_name(document) -> None:
    body = {"projects": [], "next_cursor": None, "extra": 1}
    with pytest.raises(AssertionError):
        schema_check(document, "ProjectList", body)


def test_a_user_limited_to_one_company_reads_only_its_projects(api, books, reader, runtime):
    from core.users import set_companies

    with runtime.sessions() as session:
        company = make_company(session, name="Zephyrwood Homes")
        hidden = make_project(session, company, linked=True, name="Zanzibar Tower")
        add_actual(session, hidden, "4242.42")
        set_companies(session, session.get(User, reader["user_id"]), [books["project"].company_id])
        session.commit()
        hidden_id = hidden.id
    listed = get(api, "/api/v1/projects", reader["secret"])
    assert listed.status_code == 200
    assert "Harbor Lofts" in listed.get_data(as_text=True)
    assert "Zanzibar Tower" not in listed.get_data(as_text=True)
    for path in ("budget", "actuals"):
        hidden_page = get(api, f"/api/v1/projects/{hidden_id}/{path}", reader["secret"])
        missing = get(api, f"/api/v1/projects/999999/{path}", reader["secret"])
        # The same answer as for a project that does not exist, but for the id it names.
        words = hidden_page.get_data(as_text=True).replace(str(hidden_id), "N")
        assert words == missing.get_data(as_text=True).replace("999999", "N")
        assert hidden_page.status_code == 404
