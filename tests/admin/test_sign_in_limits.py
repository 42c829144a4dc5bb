"""Sign-in that cannot be abused (issue 22, findings 1 and 4).

A 20 MB e-mail is refused unread and leaves nothing large in Redis; attempts are counted before
any password is checked, so 30 parallel guesses get at most the limit's checks; one address
guessing across accounts is stopped; behind a trusted proxy each forwarded client has its own
count and without one `X-Forwarded-For` is ignored; an account guessed at from many addresses is
spaced out but its owner's usual address is not, and `costbridge users unlock` clears it all.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests
from click.testing import CliRunner
from freezegun import freeze_time
from werkzeug.serving import make_server

from core import sign_in_limits
from core.models import Role
from core.runtime import Runtime
from costbridge_testing.console import add_user
from costbridge_testing.services import web_app

PASSWORD = "correct horse battery"
WRONG = "the matching words"
CHECKED = "do not match an active user"
LOCKED = "Too many failed attempts"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _attempt(client, email: str, password: str, **headers: str):
    token = _csrf(client.get("/signin", headers=headers).get_data(as_text=True))
    return client.post(
        "/signin",
        data={"csrf_token": token, "email": email, "password": password},
        headers=headers,
    )


FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data; boundary=cb-test-boundary"


def _multipart(fields: dict[str, str]) -> bytes:
    parts = [
        f'--cb-test-boundary\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    return ("".join(parts) + "--cb-test-boundary--\r\n").encode()


def _signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


@pytest.fixture
def proxied(runtime, engine, pm):
    """A web app behind one trusted proxy (`COSTBRIDGE_TRUSTED_PROXIES=1`)."""
    rt = Runtime(
        settings=runtime.settings.with_overrides({"trusted_proxies": 1}), engine=engine, pm=pm
    )
    with web_app(rt) as app:
        yield app
    rt.redis.close()


def test_a_20_mb_email_is_refused_fast_and_stores_nothing_large(
    app, runtime, committed_db, redis_conn
):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    token = _csrf(client.get("/signin").get_data(as_text=True))
    huge = "a" * (20 * 1024 * 1024) + "@example.com"
    started = time.monotonic()
    for body, kind in (
        (urlencode({"csrf_token": token, "email": huge, "password": WRONG}), FORM),
        (_multipart({"csrf_token": token, "email": huge, "password": WRONG}), MULTIPART),
    ):
        resp = client.post("/signin", data=body, content_type=kind)
        assert 400 <= resp.status_code < 500
        assert "aaaaaaaaaa" not in resp.get_data(as_text=True)
    assert time.monotonic() - started < 5
    # An address just past the limit is refused in words, not echoed, not counted.
    page = _attempt(client, "b" * 250 + "@example.com", WRONG)
    assert page.status_code == 400
    assert "at most 254 characters" in page.get_data(as_text=True)
    assert "bbbbbbbbbb" not in page.get_data(as_text=True)
    assert redis_conn.dbsize() == 0
    # A counted attempt leaves keys of digests only: a long address makes no long key.
    _attempt(client, "c" * 240 + "@example.com", WRONG)
    keys = list(redis_conn.scan_iter("*"))
    assert keys
    assert all(len(k) < 200 and b"example" not in k for k in keys)
    assert all(redis_conn.memory_usage(k) < 1024 for k in keys)
    assert any(
        k.decode().endswith(f"sign-in-failures:{sign_in_limits.digest('c' * 240 + '@example.com')}")
        for k in keys
    )


def test_thirty_parallel_guesses_get_at_most_the_limit_of_checks(
    app, runtime, committed_db, redis_conn
):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    ready = threading.Barrier(30)

    def guess(n: int) -> str:
        with requests.Session() as http:
            token = _csrf(http.get(f"{base}/signin", timeout=30).text)
            ready.wait(timeout=30)
            return http.post(
                f"{base}/signin",
                data={"csrf_token": token, "email": "ann@example.com", "password": f"{WRONG}{n}"},
                timeout=60,
                allow_redirects=False,
            ).text

    try:
        with ThreadPoolExecutor(30) as pool:
            pages = list(pool.map(guess, range(30)))
    finally:
        server.shutdown()
        thread.join()
    checked = sum(CHECKED in p for p in pages)
    refused = sum(LOCKED in p for p in pages)
    assert checked + refused == 30
    assert 1 <= checked <= sign_in_limits.PAIR_LIMIT
    # The 31st attempt, right password and all, is refused from this address.
    assert LOCKED in _attempt(app.test_client(), "ann@example.com", PASSWORD).get_data(True)


def test_one_address_guessing_across_accounts_is_stopped(app, runtime, committed_db, redis_conn):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    for n in range(sign_in_limits.ADDRESS_LIMIT):
        page = _attempt(client, f"user{n}@example.com", "Summer2026!").get_data(as_text=True)
        assert CHECKED in page
    page = _attempt(client, "ann@example.com", PASSWORD).get_data(as_text=True)
    assert "from your network for several accounts" in page
    assert not _signed_in(client)


def test_behind_one_trusted_proxy_forwarded_clients_are_counted_apart(
    proxied, runtime, committed_db, redis_conn
):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    attacker = proxied.test_client()
    for n in range(sign_in_limits.PAIR_LIMIT):
        _attempt(attacker, "ann@example.com", f"{WRONG}{n}", X_Forwarded_For="203.0.113.7")
    assert LOCKED in _attempt(
        attacker, "ann@example.com", PASSWORD, X_Forwarded_For="203.0.113.7"
    ).get_data(as_text=True)
    # The proxy's own address is the same for both; the owner comes from another client.
    owner = proxied.test_client()
    resp = _attempt(owner, "ann@example.com", PASSWORD, X_Forwarded_For="198.51.100.20")
    assert resp.status_code == 302
    assert owner.get("/admin/", headers={"X-Forwarded-For": "198.51.100.20"}).status_code == 200


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, runtime, committed_db, redis_conn):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    for n in range(sign_in_limits.PAIR_LIMIT):
        _attempt(client, "ann@example.com", f"{WRONG}{n}", X_Forwarded_For=f"203.0.113.{n}")
    # A made-up X-Forwarded-For does not buy a fresh count: the peer is still 127.0.0.1.
    page = _attempt(client, "ann@example.com", PASSWORD, X_Forwarded_For="198.51.100.20")
    assert LOCKED in page.get_data(as_text=True)
    assert not _signed_in(client)


def test_an_account_guessed_from_many_addresses_is_spaced_out_not_locked_for_its_owner(
    proxied, runtime, committed_db, redis_conn
):
    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    home = {"X_Forwarded_For": "198.51.100.20"}
    with freeze_time("2026-03-02 09:00:00") as clock:
        owner = proxied.test_client()
        assert _attempt(owner, "ann@example.com", PASSWORD, **home).status_code == 302
        bots = proxied.test_client()
        for n in range(sign_in_limits.ACCOUNT_FREE):
            page = _attempt(bots, "ann@example.com", WRONG, X_Forwarded_For=f"203.0.113.{n}")
            assert CHECKED in page.get_data(as_text=True)
        # From now on one attempt on the account every 2, 4, ... seconds, from anywhere new.
        page = _attempt(bots, "ann@example.com", WRONG, X_Forwarded_For="203.0.113.100")
        assert CHECKED in page.get_data(as_text=True)
        page = _attempt(bots, "ann@example.com", PASSWORD, X_Forwarded_For="203.0.113.101")
        assert "attempts are spaced out" in page.get_data(as_text=True)
        assert not _signed_in(bots)
        # The owner's usual address is not held back by the attack.
        again = proxied.test_client()
        assert _attempt(again, "ann@example.com", PASSWORD, **home).status_code == 302
        # Nor, after the wait (at most BACKOFF_CAP), is a new address with the right password.
        clock.tick(sign_in_limits.BACKOFF_CAP + 1)
        elsewhere = proxied.test_client()
        resp = _attempt(elsewhere, "ann@example.com", PASSWORD, X_Forwarded_For="192.0.2.9")
        assert resp.status_code == 302


def test_users_unlock_clears_the_account_everywhere(
    app, runtime, committed_db, redis_conn, monkeypatch
):
    from core.cli import main

    add_user(runtime.sessions, "ann@example.com", Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    for n in range(sign_in_limits.PAIR_LIMIT):
        _attempt(client, "ann@example.com", f"{WRONG}{n}")
    assert LOCKED in _attempt(client, "ann@example.com", PASSWORD).get_data(as_text=True)
    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("REDIS_URL", runtime.settings.redis_url)
    monkeypatch.setenv("COSTBRIDGE_INSTANCE", str(runtime.settings.instance_path))
    result = CliRunner().invoke(main, ["users", "unlock", "Ann@Example.com"])
    assert result.exit_code == 0, result.output
    assert "ann@example.com may sign in again" in result.output
    assert _attempt(client, "ann@example.com", PASSWORD).status_code == 302
    assert _signed_in(client)
    missing = CliRunner().invoke(main, ["users", "unlock", "nobody@example.com"])
    assert missing.exit_code == 1
    assert "no user" in missing.output
