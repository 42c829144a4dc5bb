"""`costbridge db upgrade` creates the schema on empty PostgreSQL and SQLite, with no drift."""

from __future__ import annotations

import json
import uuid

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import inspect
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core import migrate
from core.cli import main
from core.db import make_engine
from core.models import Base
from core.plugins import installed_plugin_names
from costbridge_testing.services import TEST_DATABASE_URL
from costbridge_testing.services import private_schema_url


@pytest.fixture
def empty_postgres_url():
    admin = make_engine(private_schema_url(TEST_DATABASE_URL, "public"))
    schema = f"cbm_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield private_schema_url(TEST_DATABASE_URL, schema)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def empty_sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'fresh' / 'costbridge.db'}"


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_url(request, empty_postgres_url, empty_sqlite_url):
    return empty_postgres_url if request.param == "postgresql" else empty_sqlite_url


def test_db_upgrade_command_creates_every_table(empty_url):
    result = CliRunner().invoke(main, ["db", "upgrade", "--url", empty_url])
    assert result.exit_code == 0, result.output
    engine = make_engine(empty_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_do_not_drift(empty_url):
    migrate.upgrade(empty_url)
    result = CliRunner().invoke(main, ["db", "check", "--url", empty_url])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output


def test_db_check_reports_drift(empty_url):
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE vendor ADD COLUMN stray_column INTEGER"))
    engine.dispose()
    result = CliRunner().invoke(main, ["db", "check", "--url", empty_url])
    assert result.exit_code == 1
    assert "differ" in result.output


COMPANY_ROW = (
    "INSERT INTO company (id, name, timezone, home_currency, connection_status, token_version, "
    "created_at, updated_at) VALUES (1, 'Ridgeline Builders', 'America/Denver', 'USD', "
    "'disconnected', 0, '2025-06-30 23:30:00+00', '2025-06-30 23:30:00+00')"
)


def _scalar(url, sql):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_upgrade_twice_keeps_the_data_and_one_head(empty_url):
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text(COMPANY_ROW))
    engine.dispose()
    migrate.upgrade(empty_url)
    assert _scalar(empty_url, "SELECT name FROM company") == "Ridgeline Builders"
    assert _scalar(empty_url, "SELECT count(*) FROM alembic_version") == 1
    head = ScriptDirectory.from_config(migrate.alembic_config(empty_url)).get_current_head()
    assert _scalar(empty_url, "SELECT version_num FROM alembic_version") == head


def test_projects_from_before_explicit_plugins_keep_the_plugins_installed_at_upgrade(empty_url):
    migrate.upgrade(empty_url, revision="0002_pull_ledger")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text(COMPANY_ROW))
        conn.execute(
            text(
                "INSERT INTO project (company_id, name, settings, created_at, updated_at) "
                "VALUES (1, 'Maple Street Remodel', '{}', '2025-06-30 23:30:00+00', "
                "'2025-06-30 23:30:00+00')"
            )
        )
    engine.dispose()
    migrate.upgrade(empty_url)
    stored = _scalar(empty_url, "SELECT enabled_plugins FROM project")
    names = json.loads(stored) if isinstance(stored, str) else stored
    assert names == installed_plugin_names()
    assert "qbo_bills" in names


ACTUAL_ROW = (
    "INSERT INTO actual (realm_id, qbo_entity, qbo_id, qbo_line_id, plugin, actual_type, "
    "txn_date, amount, exclusions, flags, pulled_at) VALUES ('9130', 'JournalEntry', '7', '0', "
    "'qbo_journal_entries', '{kind}', '2025-06-30', 10.00, '[]', '[]', '2025-06-30 23:30:00+00')"
)


def test_an_actual_type_no_core_list_names_is_stored_without_a_migration(empty_url):
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text(ACTUAL_ROW.format(kind="journal_entry")))
    engine.dispose()

    assert _scalar(empty_url, "SELECT actual_type FROM actual") == "journal_entry"


def test_going_back_before_plugin_types_drops_only_the_actuals_the_old_schema_cannot_hold(
    empty_url,
):
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text(ACTUAL_ROW.format(kind="journal_entry")))
        conn.execute(text(ACTUAL_ROW.format(kind="bill").replace("'7'", "'8'")))
    engine.dispose()

    command.downgrade(migrate.alembic_config(empty_url), "0009_install_and_partial")

    assert _scalar(empty_url, "SELECT count(*) FROM actual") == 1
    assert _scalar(empty_url, "SELECT actual_type FROM actual") == "bill"
    engine = make_engine(empty_url)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(ACTUAL_ROW.format(kind="journal_entry").replace("'7'", "'9'")))
    engine.dispose()
