"""Settings from environment variables, each with a documented default.

`Settings.from_env()` fails at start with one clear line naming the variable that is missing or
malformed (a `ConfigError`); nothing else reads `os.environ`.

| variable | default |
|---|---|
| `COSTBRIDGE_ENV` | `development` (`production` makes every secret mandatory) |
| `COSTBRIDGE_INSTANCE` | `./instance` (SQLite file, generated development keys, file store) |
| `DATABASE_URL` | `sqlite:///<instance>/costbridge.db` |
| `REDIS_URL` | `redis://127.0.0.1:6379/0` |
| `SECRET_KEY` | development: generated once into the instance folder |
| `TOKEN_ENCRYPTION_KEY` | development: generated once; comma-separated Fernet keys, newest first |
| `QBO_CLIENT_ID` / `QBO_CLIENT_SECRET` | sandbox's `costbridge-dev` / `costbridge-dev-secret` |
| `QBO_API_BASE` | `http://127.0.0.1:8765` (the local sandbox) |
| `QBO_DISCOVERY_URL` | `<QBO_API_BASE>/.well-known/openid_sandbox_configuration` |
| `QBO_REDIRECT_URI` | `http://127.0.0.1:5000/qbo/callback` |
| `QBO_MINOR_VERSION` | `75` |
| `QBO_WEBHOOK_VERIFIER` | empty: webhooks are refused until it is set |
| `QBO_RATE_PER_MINUTE` / `QBO_MAX_IN_FLIGHT` / `QBO_BATCH_PER_MINUTE` | `500` / `10` / `40` |
| `COSTBRIDGE_WEB_WORKERS` / `COSTBRIDGE_WEB_THREADS` | `2` / `4` (gunicorn, production only) |
| `COSTBRIDGE_WEB_TIMEOUT` | `60` seconds a request may take before gunicorn restarts its worker |
| `COSTBRIDGE_LOG_FORMAT` | `json` in production, else `text` |
| `COSTBRIDGE_LOG_LEVEL` | `INFO` |
| `COSTBRIDGE_ALLOWED_HOSTS` | empty; the console's host names beyond this machine, commas (HTTPS) |
| `METRICS_TOKEN` | empty: `/metrics` answers loopback only; set: a `Bearer` token is required |
| `PROMETHEUS_MULTIPROC_DIR` | `<instance>/prometheus` (`costbridge web` and `worker` share it) |
| `COSTBRIDGE_PUBLIC_HOSTS` | empty; host names Intuit reaches (webhook, OAuth callback), commas |
| `COSTBRIDGE_TRUSTED_PROXIES` | `0`; how many reverse proxies stand in front (X-Forwarded-For) |

With `COSTBRIDGE_ENV=production` start-up also refuses, one line per problem: `QBO_API_BASE` or
`QBO_REDIRECT_URI` not set or not https (http only to this machine), SQLite, a `SECRET_KEY`
shorter than `MIN_SECRET_KEY` characters, no key in `TOKEN_ENCRYPTION_KEY`.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.errors import ConfigError

SANDBOX_BASE = "http://127.0.0.1:8765"


@dataclass(frozen=True)
class Settings:
    """The whole configuration, read once at start.

    Secrets, and URLs that may carry a password, are left out of its repr: a settings object
    in a log line or a traceback must not leak them.
    """

    env: str
    instance_path: Path
    database_url: str = field(repr=False)
    redis_url: str = field(repr=False)
    secret_key: str = field(repr=False)
    token_keys: tuple[str, ...] = field(repr=False)
    qbo_client_id: str
    qbo_client_secret: str = field(repr=False)
    qbo_api_base: str
    qbo_discovery_url: str
    qbo_redirect_uri: str
    qbo_minor_version: int
    qbo_webhook_verifier: str = field(repr=False)
    qbo_rate_per_minute: int
    qbo_max_in_flight: int
    qbo_batch_per_minute: int
    web_workers: int = 2
    web_threads: int = 4
    web_timeout: int = 60
    log_format: str = "text"
    log_level: str = "INFO"
    metrics_token: str = field(default="", repr=False)
    metrics_dir: Path | None = None
    #: Host names people reach the signed-in console under, beyond this machine's own.
    allowed_hosts: tuple[str, ...] = ()
    public_hosts: tuple[str, ...] = ()
    #: How many reverse proxies stand in front of the web app (`COSTBRIDGE_TRUSTED_PROXIES`):
    #: the client's address is the one that many hops back in `X-Forwarded-For`.
    trusted_proxies: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every setting.

        Args:
            environ: The variables to read (default: `os.environ`).

        Raises:
            ConfigError: One line naming the variable and what is wrong with it.
        """
        env = dict(os.environ if environ is None else environ)
        mode = env.get("COSTBRIDGE_ENV", "development")
        if mode not in ("development", "production", "test"):
            raise ConfigError(f"COSTBRIDGE_ENV is {mode!r}; use development, test or production.")
        instance = Path(env.get("COSTBRIDGE_INSTANCE") or Path.cwd() / "instance").resolve()
        api_base = _url(env, "QBO_API_BASE", SANDBOX_BASE)
        settings = cls(
            env=mode,
            instance_path=instance,
            database_url=_database_url(env, instance),
            redis_url=_redis_url(env),
            secret_key=_secret(env, "SECRET_KEY", mode, instance, _new_secret_key),
            token_keys=_token_keys(
                _secret(env, "TOKEN_ENCRYPTION_KEY", mode, instance, _new_fernet)
            ),
            qbo_client_id=_required(env, "QBO_CLIENT_ID", mode, "costbridge-dev"),
            qbo_client_secret=_required(env, "QBO_CLIENT_SECRET", mode, "costbridge-dev-secret"),
            qbo_api_base=api_base,
            qbo_discovery_url=_url(
                env, "QBO_DISCOVERY_URL", f"{api_base}/.well-known/openid_sandbox_configuration"
            ),
            qbo_redirect_uri=_url(env, "QBO_REDIRECT_URI", "http://127.0.0.1:5000/qbo/callback"),
            qbo_minor_version=_int(env, "QBO_MINOR_VERSION", 75, low=1),
            qbo_webhook_verifier=env.get("QBO_WEBHOOK_VERIFIER", ""),
            qbo_rate_per_minute=_int(env, "QBO_RATE_PER_MINUTE", 500, low=1),
            qbo_max_in_flight=_int(env, "QBO_MAX_IN_FLIGHT", 10, low=1),
            qbo_batch_per_minute=_int(env, "QBO_BATCH_PER_MINUTE", 40, low=1),
            web_workers=_int(env, "COSTBRIDGE_WEB_WORKERS", 2, low=1),
            web_threads=_int(env, "COSTBRIDGE_WEB_THREADS", 4, low=1),
            web_timeout=_int(env, "COSTBRIDGE_WEB_TIMEOUT", 60, low=1),
            log_format=_choice(
                env,
                "COSTBRIDGE_LOG_FORMAT",
                ("json", "text"),
                "json" if mode == "production" else "text",
            ),
            log_level=_choice(
                env, "COSTBRIDGE_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"
            ),
            metrics_token=env.get("METRICS_TOKEN", "").strip(),
            allowed_hosts=tuple(
                h.strip().lower().rstrip(".")
                for h in env.get("COSTBRIDGE_ALLOWED_HOSTS", "").split(",")
                if h.strip()
            ),
            metrics_dir=Path(
                env.get("PROMETHEUS_MULTIPROC_DIR", "").strip() or instance / "prometheus"
            ),
            public_hosts=_host_names(env, "COSTBRIDGE_PUBLIC_HOSTS"),
            trusted_proxies=_int(env, "COSTBRIDGE_TRUSTED_PROXIES", 0, low=0),
        )
        if mode == "production":
            problems = production_problems(settings, env)
            if problems:
                raise ConfigError("\n".join(problems))
        return settings

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with some fields replaced (tests pass theirs to `create_app`)."""
        known = {k: v for k, v in overrides.items() if k in self.__dataclass_fields__}
        return replace(self, **known)


#: Shortest `SECRET_KEY` production accepts (`costbridge keys new` prints 44 characters).
MIN_SECRET_KEY = 24
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def production_problems(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """What production refuses, one line each (empty: nothing)."""
    problems: list[str] = []
    for name, value in (
        ("QBO_API_BASE", settings.qbo_api_base),
        ("QBO_REDIRECT_URI", settings.qbo_redirect_uri),
    ):
        if not env.get(name, "").strip():
            problems.append(f"{name} is not set; production needs Intuit's https URL.")
        elif not _https_or_local(value):
            problems.append(f"{name} must be https in production (http only to this machine).")
    if settings.database_url.startswith("sqlite"):
        problems.append("DATABASE_URL is SQLite; production needs postgresql://...")
    if len(settings.secret_key) < MIN_SECRET_KEY:
        problems.append(
            f"SECRET_KEY is shorter than {MIN_SECRET_KEY} characters; use a long random value."
        )
    if not settings.token_keys:
        problems.append("TOKEN_ENCRYPTION_KEY holds no key; make one with `costbridge keys new`.")
    return problems


def _https_or_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or parts.hostname in ("127.0.0.1", "localhost", "::1")


def _host_names(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "").strip()
    hosts = tuple(h.strip().lower().rstrip(".") for h in raw.split(",") if h.strip())
    for host in hosts:
        if not _HOST_NAME.match(host):
            raise ConfigError(
                f"{name} is malformed: expected host names like costbridge.example.com, "
                f"got {host!r}."
            )
    return hosts


def _required(env: Mapping[str, str], name: str, mode: str, dev_default: str) -> str:
    value = env.get(name, "").strip()
    if value:
        return value
    if mode == "production":
        raise ConfigError(f"{name} is not set; production needs it (see README, Configuration).")
    return dev_default


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} is malformed: expected an http(s) URL, got {value!r}.")
    return value.rstrip("/")


def _int(env: Mapping[str, str], name: str, default: int, *, low: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} is malformed: expected a whole number, got {raw!r}.") from None
    if value < low:
        raise ConfigError(f"{name} must be at least {low}, got {value}.")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = raw.upper() if choices[0].isupper() else raw.lower()
    if value not in choices:
        raise ConfigError(f"{name} is {raw!r}; use one of {', '.join(choices)}.")
    return value


def _database_url(env: Mapping[str, str], instance: Path) -> str:
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{instance / 'costbridge.db'}"
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL is malformed: expected e.g. postgresql://user@host:5432/db "
            "or sqlite:///path/to/file.db."
        ) from None
    if url.get_backend_name() not in ("postgresql", "sqlite"):
        raise ConfigError(
            f"DATABASE_URL uses {url.get_backend_name()!r}; "
            "costbridge supports postgresql and sqlite."
        )
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        # psycopg 3 is the driver we install; SQLAlchemy's bare name means psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _redis_url(env: Mapping[str, str]) -> str:
    value = env.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix") or (
        parts.scheme != "unix" and not parts.hostname
    ):
        raise ConfigError(f"REDIS_URL is malformed: expected redis://host:port/db, got {value!r}.")
    return value


def _secret(env: Mapping[str, str], name: str, mode: str, instance: Path, make: Any) -> str:
    value = env.get(name, "").strip()
    if value:
        return value
    if mode == "production":
        raise ConfigError(f"{name} is not set; production needs it (see README, Configuration).")
    # Development and the demo keep a generated secret in the instance folder, readable by
    # the owner only, so restarts keep sessions and stored tokens readable.
    path = instance / f".{name.lower()}"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return str(value)


def _new_secret_key() -> str:
    return secrets.token_urlsafe(48)


def _new_fernet() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _token_keys(raw: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    for position, key in enumerate(keys, start=1):
        try:
            ok = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            raise ConfigError(
                f"TOKEN_ENCRYPTION_KEY is malformed: key {position} is not a Fernet key "
                "(32 url-safe base64 bytes; make one with `costbridge keys new`)."
            )
    return keys
