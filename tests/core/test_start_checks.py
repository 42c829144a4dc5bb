"""Start-up checks: production refuses unsafe settings, commands fail in one line, not a trace."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from core.cli import main
from core.config import Settings
from core.errors import ConfigError
from core.jobs import queues
from core.runtime import Runtime
from costbridge_testing.services import TEST_TOKEN_KEY

CLOSED = "127.0.0.1:1"  # nothing listens on port 1

GOOD_PRODUCTION = {
    "COSTBRIDGE_ENV": "production",
    "DATABASE_URL": "postgresql://costbridge@db.internal:5432/costbridge",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SECRET_KEY": "k" * 48,
    "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY,
    "QBO_CLIENT_ID": "id",
    "QBO_CLIENT_SECRET": "secret",
    "QBO_API_BASE": "https://quickbooks.api.intuit.com",
    "QBO_REDIRECT_URI": "https://cb.example.com/qbo/callback",
}


def test_a_sound_production_configuration_starts(tmp_path: Path) -> None:
    settings = Settings.from_env({**GOOD_PRODUCTION, "COSTBRIDGE_INSTANCE": str(tmp_path)})
    assert settings.env == "production"


def test_production_refuses_each_unsafe_setting_in_one_line(tmp_path: Path) -> None:
    env = {
        **GOOD_PRODUCTION,
        "COSTBRIDGE_INSTANCE": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "SECRET_KEY": "short",
        "TOKEN_ENCRYPTION_KEY": " , ",
        "QBO_API_BASE": "http://quickbooks.api.intuit.com",
    }
    del env["QBO_REDIRECT_URI"]
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    lines = info.value.message.splitlines()
    assert len(lines) == 5
    for name in (
        "QBO_API_BASE",
        "QBO_REDIRECT_URI",
        "DATABASE_URL",
        "SECRET_KEY",
        "TOKEN_ENCRYPTION_KEY",
    ):
        assert sum(line.startswith(name) for line in lines) == 1, (name, lines)


def test_production_allows_http_to_this_machine_only(tmp_path: Path) -> None:
    env = {
        **GOOD_PRODUCTION,
        "COSTBRIDGE_INSTANCE": str(tmp_path),
        "QBO_API_BASE": "http://127.0.0.1:8765",
    }
    assert Settings.from_env(env).qbo_api_base == "http://127.0.0.1:8765"


def test_malformed_public_host_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COSTBRIDGE_PUBLIC_HOSTS is malformed"):
        Settings.from_env(
            {
                "COSTBRIDGE_INSTANCE": str(tmp_path),
                "COSTBRIDGE_PUBLIC_HOSTS": "https://cb.example.com/",
            }
        )


@pytest.fixture
def env(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "COSTBRIDGE_ENV": "test",
        "COSTBRIDGE_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY,
    }


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env)


def one_line(result: Any) -> str:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return str(lines[0])


def test_an_unreachable_database_is_one_line(env: dict[str, str]) -> None:
    env["DATABASE_URL"] = f"postgresql://postgres@{CLOSED}/test?connect_timeout=2"
    line = one_line(run(env, "keys", "rotate"))
    assert line.startswith("costbridge: cannot reach the database (DATABASE_URL)")


def test_an_unreachable_redis_is_one_line(env: dict[str, str], committed_db: Any) -> None:
    env["REDIS_URL"] = f"redis://{CLOSED}/0"
    line = one_line(run(env, "queue", "info"))
    assert line.startswith("costbridge: cannot reach Redis (REDIS_URL)")


def test_a_missing_sqlite_folder_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/no/such/folder/costbridge.db"
    line = one_line(run(env, "keys", "rotate"))
    assert "no/such/folder does not exist" in line


def test_keys_rotate_without_keys_is_one_line(env: dict[str, str]) -> None:
    env["TOKEN_ENCRYPTION_KEY"] = " , "
    line = one_line(run(env, "keys", "rotate"))
    assert line.startswith("costbridge: ")
    assert "key" in line.lower()


def test_queue_info_reads_jobs_with_the_json_serializer(
    env: dict[str, str], redis_conn: Any
) -> None:
    # Queues are per install (`<name>-<install id>`): queue the probe on this install's queue.
    rt = Runtime.build(Settings.from_env(env))
    try:
        queues.enqueue(rt.redis, queues.MAINTENANCE, print, job_id="probe-1", kwargs={}, retry=None)
    finally:
        rt.close()
    result = run(env, "queue", "info", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["queue"]: r for r in json.loads(result.output)["queues"]}
    assert rows[queues.MAINTENANCE]["queued"] == 1
    # The job is still JSON: a JSON-serializer worker could run it.
    raw = redis_conn.hget("rq:job:probe-1", "data")
    assert raw is not None
    assert json.loads(zlib.decompress(raw))  # RQ compresses the serialized call
