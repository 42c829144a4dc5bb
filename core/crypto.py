"""Tokens at rest and in logs: a MultiFernet vault, key rotation, and a log scrubber.

Keys come from `TOKEN_ENCRYPTION_KEY` (comma-separated Fernet keys, newest first). The first
key encrypts; every key decrypts, so a key can be retired in three steps: deploy `[new, old]`,
run `costbridge keys rotate` (`rotate_all`), then deploy `[new]` (RELIABILITY.md §2,
"Encryption at rest"; https://cryptography.io/en/latest/fernet/).

`SecretScrubber` is a `logging.Filter` that rewrites records so no OAuth token reaches a
handler: it masks every value registered with `remember_secret` (the vault registers each token
it encrypts or decrypts) and anything shaped like a bearer header or a token field.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ConfigError
from core.errors import NeedsAdmin

MASK = "[redacted]"

__all__ = [
    "MASK",
    "SecretScrubber",
    "TokenVault",
    "install_log_scrubber",
    "new_key",
    "remember_secret",
    "Rotated",
    "rotate_all",
    "scrub",
]


def new_key() -> str:
    """Make a fresh Fernet key (url-safe base64 text) for `TOKEN_ENCRYPTION_KEY`."""
    return Fernet.generate_key().decode("ascii")


class TokenVault:
    """Encrypts and decrypts OAuth tokens with the configured keys.

    Args:
        keys: Fernet keys, newest first (`Settings.token_keys`).

    Raises:
        ConfigError: No key was given, or one is not a Fernet key.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        """Build the MultiFernet; the first key encrypts."""
        if not keys:
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEY is empty; make a key with `costbridge keys new`.",
            )
        try:
            self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
        except (ValueError, TypeError):
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEY holds a value that is not a Fernet key; "
                "make one with `costbridge keys new`."
            ) from None
        self._count = len(keys)

    def __repr__(self) -> str:
        """Never shows keys."""
        return f"<TokenVault keys={self._count}>"

    def encrypt(self, token: str) -> str:
        """Encrypt one token under the newest key.

        Args:
            token: The plaintext token.

        Returns:
            Fernet ciphertext as text, for a `*_token_enc` column.
        """
        remember_secret(token)
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt a stored token with whichever configured key made it.

        Raises:
            NeedsAdmin: No configured key opens it (a key was dropped before rotating).
        """
        try:
            token = self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise NeedsAdmin(
                "A stored QuickBooks token cannot be read with the configured encryption keys.",
                fix="Put the previous key back at the end of TOKEN_ENCRYPTION_KEY, run "
                "`costbridge keys rotate`, then remove it; or reconnect QuickBooks.",
            ) from None
        remember_secret(token)
        return token

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt a stored token under the newest key (keeps its timestamp)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise NeedsAdmin(
                "A stored QuickBooks token cannot be re-encrypted: no configured key opens it.",
                fix="Add the key it was written with to TOKEN_ENCRYPTION_KEY and rotate again.",
            ) from None


@dataclass(frozen=True)
class Rotated:
    """What `rotate_all` re-encrypted."""

    companies: int
    pending_revocations: int


def rotate_all(session: Session, vault: TokenVault) -> Rotated:
    """Re-encrypt every stored token under the vault's newest key.

    That is each company's access and refresh tokens and each refresh token still waiting for
    Intuit to confirm its revocation (`PendingRevocation`): once the old key is dropped, any
    left behind could never be revoked. Runs in the caller's transaction; the caller commits.
    Rows are locked while rewritten so a concurrent refresh or revocation cannot interleave.

    Args:
        session: An open session.
        vault: A vault configured as `[new, old, ...]`.

    Returns:
        How many companies and pending revocations were rewritten.
    """
    from core.models.company import Company
    from core.models.hardening import PendingRevocation

    rows = session.scalars(
        select(Company)
        .where((Company.access_token_enc.is_not(None)) | (Company.refresh_token_enc.is_not(None)))
        .order_by(Company.id)
        .with_for_update()
    ).all()
    for company in rows:
        if company.access_token_enc:
            company.access_token_enc = vault.rotate(company.access_token_enc)
        if company.refresh_token_enc:
            company.refresh_token_enc = vault.rotate(company.refresh_token_enc)
    pending = session.scalars(
        select(PendingRevocation).order_by(PendingRevocation.id).with_for_update()
    ).all()
    for waiting in pending:
        waiting.token_enc = vault.rotate(waiting.token_enc)
    session.flush()
    return Rotated(len(rows), len(pending))


# --------------------------------------------------------------------------------------------
# Log scrubbing

_known: set[str] = set()
_known_lock = threading.Lock()
_KNOWN_MAX = 10_000
# Shapes that carry a secret whatever its value (airbyte-python-cdk
# `airbyte_cdk/utils/airbyte_secrets_utils.py` masks by value; we also mask by shape).
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=]+"),
    re.compile(
        r"(?i)([\"']?(?:access_token|refresh_token|id_token|client_secret|token)[\"']?"
        r"\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
    ),
    # The OAuth callback's query string (a web server's access log line).
    re.compile(r"([?&](?:code|state)=)[^&\s\"']+"),
)


def remember_secret(value: str | None) -> None:
    """Register a secret value so the scrubber masks it wherever it appears in a log record."""
    if not value or len(value) < 8:
        return
    with _known_lock:
        if len(_known) >= _KNOWN_MAX:
            _known.clear()
        _known.add(value)


def scrub(text: str) -> str:
    """Mask every known secret and every token-shaped value in `text`."""
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class SecretScrubber(logging.Filter):
    """A logging filter that masks tokens in the message, its arguments and exception text.

    Attach it to a handler (catches every logger) or to a logger (catches that logger's own
    records); `install_log_scrubber` does both for the loggers that talk to Intuit.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep the raw message, still scrubbed
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(formatted)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_SCRUBBER = SecretScrubber()
_installed: weakref.WeakSet[logging.Handler] = weakref.WeakSet()
LOGGERS = ("core", "costbridge", "authlib", "urllib3", "requests", "rq", "werkzeug", "flask")


def install_log_scrubber(handlers: Iterable[logging.Handler] | None = None) -> SecretScrubber:
    """Attach the scrubber to the root logger's handlers (or those given) and to our loggers.

    Safe to call more than once. Call it at start-up of the web app, the worker and the CLI.

    Args:
        handlers: Handlers to protect; default every handler on the root logger.

    Returns:
        The shared filter (tests attach it to their capture handler).
    """
    targets = list(handlers) if handlers is not None else list(logging.getLogger().handlers)
    for handler in targets:
        if handler not in _installed:
            handler.addFilter(_SCRUBBER)
            _installed.add(handler)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUBBER not in logger.filters:
            logger.addFilter(_SCRUBBER)
    return _SCRUBBER


def scrubbed_logger(name: str) -> logging.Logger:
    """Return `logging.getLogger(name)` with the scrubber attached to it."""
    logger = logging.getLogger(name)
    if _SCRUBBER not in logger.filters:
        logger.addFilter(_SCRUBBER)
    return logger
