"""Token vault and key rotation (RELIABILITY.md §3 recipe 11), on real committed rows."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.crypto import TokenVault
from core.crypto import install_log_scrubber
from core.crypto import new_key
from core.crypto import remember_secret
from core.crypto import rotate_all
from core.crypto import scrub
from core.errors import ConfigError
from core.errors import NeedsAdmin
from core.models.company import Company

ROWS = 1000  # RELIABILITY.md §3 recipe 11


def test_new_key_is_a_fernet_key() -> None:
    Fernet(new_key().encode())


def test_vault_round_trips_and_hides_keys() -> None:
    key = new_key()
    vault = TokenVault([key])
    sealed = vault.encrypt("AB11-refresh-token-value")
    assert "AB11" not in sealed
    assert vault.decrypt(sealed) == "AB11-refresh-token-value"
    assert key not in repr(vault)


def test_an_empty_or_malformed_key_list_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        TokenVault([])
    with pytest.raises(ConfigError):
        TokenVault(["not-a-key"])


def test_key_rotation_keeps_every_token_readable(committed_db: Session) -> None:
    k1, k2 = new_key(), new_key()
    old = TokenVault([k1])
    plain = {}
    for i in range(ROWS):
        access, refresh = f"eyJ-access-{i:04d}-xxxxxxxx", f"AB11-refresh-{i:04d}-xxxxxxxx"
        row = Company(
            name=f"Company {i}",
            realm_id=str(9130350000000000 + i),
            access_token_enc=old.encrypt(access),
            refresh_token_enc=old.encrypt(refresh),
        )
        committed_db.add(row)
        plain[row.realm_id] = (access, refresh)
    committed_db.commit()

    both = TokenVault([k2, k1])  # deploy [K2, K1]
    assert rotate_all(committed_db, both).companies == ROWS
    committed_db.commit()

    only_new = TokenVault([k2])  # drop K1
    committed_db.expire_all()
    rows = committed_db.scalars(select(Company)).all()
    unreadable = 0
    for row in rows:
        try:
            got = (
                only_new.decrypt(row.access_token_enc or ""),
                only_new.decrypt(row.refresh_token_enc or ""),
            )
        except NeedsAdmin:
            unreadable += 1
            continue
        assert got == plain[row.realm_id]
    assert unreadable == 0
    with pytest.raises(NeedsAdmin):  # and K1 alone no longer opens them
        TokenVault([k1]).decrypt(rows[0].access_token_enc or "")


def test_scrubber_masks_known_values_and_token_shapes(caplog: pytest.LogCaptureFixture) -> None:
    remember_secret("AB11-some-refresh-token-1234567890")
    install_log_scrubber([caplog.handler])
    log = logging.getLogger("core.qbo.test_crypto")
    with caplog.at_level(logging.INFO):
        log.info("refresh with %s", "AB11-some-refresh-token-1234567890")
        log.info("headers %s", {"Authorization": "Bearer eyJhbGciOi.abc.def"})
        log.info('body {"access_token": "zzz-unknown-token-value"}')
        log.info("GET /qbo/callback?code=AB11xyz&state=abc&realmId=1")
    assert "AB11-some" not in caplog.text
    assert "eyJhbGciOi" not in caplog.text
    assert "zzz-unknown" not in caplog.text
    assert "AB11xyz" not in caplog.text
    assert "realmId=1" in caplog.text
    assert scrub("code 5010 stale") == "code 5010 stale"
