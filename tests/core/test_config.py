from __future__ import annotations

import pytest

from core.config import Settings
from core.errors import ConfigError
from costbridge_testing.services import TEST_TOKEN_KEY

BASE = {"COSTBRIDGE_ENV": "test", "SECRET_KEY": "s", "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY}


def test_defaults_are_documented_values(tmp_path):
    settings = Settings.from_env({**BASE, "COSTBRIDGE_INSTANCE": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'costbridge.db'}"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.qbo_api_base == "http://127.0.0.1:8765"
    assert settings.qbo_discovery_url.endswith("/.well-known/openid_sandbox_configuration")
    assert (
        settings.qbo_rate_per_minute,
        settings.qbo_max_in_flight,
        settings.qbo_batch_per_minute,
    ) == (500, 10, 40)


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("REDIS_URL", "localhost:6379", "REDIS_URL is malformed"),
        ("DATABASE_URL", "not a url", "DATABASE_URL is malformed"),
        ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL uses 'mysql'"),
        ("QBO_RATE_PER_MINUTE", "five hundred", "QBO_RATE_PER_MINUTE is malformed"),
        ("QBO_MAX_IN_FLIGHT", "0", "QBO_MAX_IN_FLIGHT must be at least 1"),
        ("QBO_API_BASE", "ftp://example", "QBO_API_BASE is malformed"),
        ("TOKEN_ENCRYPTION_KEY", "short", "TOKEN_ENCRYPTION_KEY is malformed"),
        ("COSTBRIDGE_ENV", "staging", "COSTBRIDGE_ENV is 'staging'"),
    ],
)
def test_malformed_setting_fails_with_one_line_naming_it(tmp_path, variable, value, words):
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**BASE, "COSTBRIDGE_INSTANCE": str(tmp_path), variable: value})
    assert words in info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize(
    "variable", ["SECRET_KEY", "TOKEN_ENCRYPTION_KEY", "QBO_CLIENT_ID", "QBO_CLIENT_SECRET"]
)
def test_production_refuses_a_missing_secret(tmp_path, variable):
    env = {
        "COSTBRIDGE_ENV": "production",
        "COSTBRIDGE_INSTANCE": str(tmp_path),
        "SECRET_KEY": "s",
        "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY,
        "QBO_CLIENT_ID": "id",
        "QBO_CLIENT_SECRET": "secret",
    }
    del env[variable]
    with pytest.raises(ConfigError, match=f"{variable} is not set"):
        Settings.from_env(env)


def test_development_generates_secrets_once_readable_by_owner_only(tmp_path):
    first = Settings.from_env({"COSTBRIDGE_INSTANCE": str(tmp_path)})
    second = Settings.from_env({"COSTBRIDGE_INSTANCE": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert first.token_keys == second.token_keys
    assert (tmp_path / ".token_encryption_key").stat().st_mode & 0o077 == 0


def test_bare_postgresql_url_uses_psycopg3(tmp_path):
    settings = Settings.from_env(
        {
            **BASE,
            "COSTBRIDGE_INSTANCE": str(tmp_path),
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
        }
    )
    assert settings.database_url.startswith("postgresql+psycopg://")


def test_several_token_keys_newest_first(tmp_path):
    settings = Settings.from_env(
        {
            **BASE,
            "COSTBRIDGE_INSTANCE": str(tmp_path),
            "TOKEN_ENCRYPTION_KEY": f"{TEST_TOKEN_KEY}, {TEST_TOKEN_KEY}",
        }
    )
    assert settings.token_keys == (TEST_TOKEN_KEY, TEST_TOKEN_KEY)


def test_settings_and_runtime_reprs_leak_no_secret(settings, runtime):
    text = repr(settings) + repr(runtime)
    for secret in (
        settings.secret_key,
        *settings.token_keys,
        settings.qbo_client_secret,
        settings.qbo_webhook_verifier,
    ):
        assert secret not in text
    assert "qbo_client_id='costbridge-dev'" in text


def test_concurrent_test_sessions_get_different_redis_databases(redis_url):
    import os
    import uuid

    from redis import Redis

    from costbridge_testing.services import REDIS_REGISTRY_DB
    from costbridge_testing.services import TEST_REDIS_BASE
    from costbridge_testing.services import TEST_REDIS_DBS
    from costbridge_testing.services import claim_redis_db

    registry = Redis.from_url(f"{TEST_REDIS_BASE}/{REDIS_REGISTRY_DB}")
    free = [n for n in TEST_REDIS_DBS if not registry.exists(f"costbridge:test-redis-db:{n}")]
    owners = [f"test-{uuid.uuid4().hex}" for _ in free]
    taken = []
    try:
        for owner in owners:
            claimed = claim_redis_db(registry, owner)
            if claimed is not None:
                taken.append(claimed)
        # This session (and any other running now) already holds its own; the free ones are
        # shared out, each once.
        if not os.environ.get("COSTBRIDGE_TEST_REDIS_URL"):
            assert redis_url.rsplit("/", 1)[1] not in {str(n) for n in free}
        assert taken == free
        assert claim_redis_db(registry, "one-too-many") is None
    finally:
        for db in taken:
            registry.delete(f"costbridge:test-redis-db:{db}")
        registry.close()
