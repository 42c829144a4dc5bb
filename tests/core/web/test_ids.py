"""Row ids from requests: one strict reading; a bad id is 404 on PostgreSQL and SQLite alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.models import Company
from core.runtime import Runtime
from core.web.ids import MAX_ID
from core.web.ids import IdConverter
from core.web.ids import parse_id
from costbridge_testing.console import add_user
from costbridge_testing.console import sign_in
from costbridge_testing.services import web_app

#: Values that name no row, each as a URL path part and as a query value.
BAD_IDS = [
    "99999999999999999999",  # past 64 bits: SQLite's driver raised OverflowError (500)
    str(MAX_ID + 1),
    "0",
    "-1",
    "1,2",  # Flask-Admin's composite-key syntax, for a one-column key
    "abc",
    "٣",  # Arabic-Indic three: str.isdigit() and int() take it
    "１",  # fullwidth one, the same
    "²",  # isdigit(), yet int() refuses it
    "1_000",
    "+1",
    " 1",
    "1.0",
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("42", 42), ("007", 7), (str(MAX_ID), MAX_ID)],
)
def test_ascii_digits_from_1_to_bigint_are_ids(raw: str, expected: int) -> None:
    assert parse_id(raw) == expected


@pytest.mark.parametrize("raw", [*BAD_IDS, "", None, 5, "1\n"])
def test_anything_else_names_no_row(raw: object) -> None:
    assert parse_id(raw) is None


@pytest.fixture
def company_id(any_runtime: Runtime) -> int:
    with any_runtime.sessions() as session:
        row = Company(name="Ridgeline Builders")
        session.add(row)
        session.commit()
        return row.id


@pytest.fixture
def web(any_runtime: Runtime) -> Iterator[Flask]:
    # Without CSRF, a POST reaches the view with its id instead of stopping at the token.
    with web_app(any_runtime, WTF_CSRF_ENABLED=False) as app:
        yield app


@pytest.fixture
def admin(web: Flask, any_runtime: Runtime) -> FlaskClient:
    return sign_in(
        web.test_client(), any_runtime.sessions, add_user(any_runtime.sessions, "i@x.io")
    )


def _id_rules(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every route with an `<id:...>` part."""
    found = []
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IdConverter) for c in rule._converters.values()):
            found += [(m, rule.rule) for m in sorted(rule.methods or ()) if m in ("GET", "POST")]
    return sorted(found)


def test_every_id_in_a_path_is_read_by_the_id_converter(web: Flask) -> None:
    rules = {rule for _m, rule in _id_rules(web)}
    assert {"/qbo/company/<id:company_id>", "/qbo/connect/<id:company_id>"} <= rules
    assert "/qbo/disconnect/<id:company_id>" in rules
    assert not [r.rule for r in web.url_map.iter_rules() if "<int:" in r.rule]


def test_a_bad_id_in_a_path_is_404_on_either_database(
    web: Flask, admin: FlaskClient, company_id: int
) -> None:
    assert admin.get(f"/qbo/company/{company_id}").status_code == 200
    for method, rule in _id_rules(web):
        for bad in BAD_IDS:
            url = rule.replace("<id:company_id>", bad)
            resp = admin.open(url, method=method)
            assert resp.status_code == 404, (method, url, resp.status_code)
            assert b"SQL" not in resp.data


@pytest.mark.parametrize(
    "path",
    [
        "/admin/company/?page=99999999999999999999",
        "/admin/actual/?flt0_0=99999999999999999999",
    ],
)
def test_a_value_past_64_bits_that_is_no_id_is_404_on_either_database(
    admin: FlaskClient, path: str
) -> None:
    # Not ids, so nothing refuses them before the query: PostgreSQL answers with a DataError,
    # SQLite's driver with an OverflowError raised as the same DataError.
    resp = admin.get(path)
    assert resp.status_code == 404
    assert resp.get_data(as_text=True) == "Not found.\n"
