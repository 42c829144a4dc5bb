"""`costbridge api-tokens create|list|revoke`."""

from __future__ import annotations

import hashlib
import json

from click.testing import CliRunner
from sqlalchemy import select

from core.cli import main
from core.models import ApiToken
from costbridge_testing.console import add_user


def run(rt, *args: str):
    return CliRunner().invoke(main, list(args), obj=rt)


def test_create_prints_the_token_once_and_keeps_only_its_hash(runtime, committed_db) -> None:
    add_user(runtime.sessions, "pm@example.com", "viewer")
    result = run(runtime, "api-tokens", "create", "PM@example.com", "--name", "Power BI")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("cbt_")
    assert len(token) == 47
    assert "shown only now" in result.stderr
    row = committed_db.scalars(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (row.name, row.scope, row.hint) == ("Power BI", "read", token[:12])
    listed = run(runtime, "api-tokens", "list")
    assert token not in listed.stdout
    assert "Power BI" in listed.stdout
    assert "last used never" in listed.stdout


def test_create_refuses_an_unknown_or_disabled_user(runtime, committed_db) -> None:
    result = run(runtime, "api-tokens", "create", "nobody@example.com")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "costbridge: There is no user nobody@example.com. "
        "Run `costbridge users list` to see who there is."
    )
    add_user(runtime.sessions, "gone@example.com", "viewer")
    with runtime.sessions() as session:
        from core.models import User

        session.scalars(select(User)).one().active = False
        session.commit()
    refused = run(runtime, "api-tokens", "create", "gone@example.com")
    assert refused.exit_code == 1
    assert "is disabled" in refused.stderr


def test_revoke_marks_it_and_list_shows_who_and_when(runtime, committed_db) -> None:
    add_user(runtime.sessions, "pm@example.com", "viewer")
    assert run(runtime, "api-tokens", "create", "pm@example.com").exit_code == 0
    (token,) = json.loads(run(runtime, "api-tokens", "list", "--json").stdout)
    assert token["revoked_at"] is None
    assert token["user"] == "pm@example.com"
    result = run(runtime, "api-tokens", "revoke", str(token["id"]))
    assert result.exit_code == 0, result.output
    assert "is revoked" in result.stdout
    (after,) = json.loads(run(runtime, "api-tokens", "list", "--json").stdout)
    assert after["revoked_at"] is not None
    assert after["revoked_by"] == "command line"
    missing = run(runtime, "api-tokens", "revoke", "999999")
    assert missing.exit_code == 1
    assert "There is no API token 999999." in missing.stderr
