"""Pre-signed, expiring download links: the ``TempDownloadUri`` of an Attachable (API.md §7.3).

A link is ``/_files/<realm>/<key>/<file name>`` with ``key = <attachable id>.<expiry>.<mac>``:
an HMAC over id and expiry with a per-realm random secret. The server keeps no table of issued
links, so minting one per read (QBO does: every read answers a fresh URL) costs nothing to
store, a link cannot be guessed without the secret, and a link dies with its realm.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

_MAC_BYTES = 18  # 144 bits: far beyond guessing, short enough for a readable URL


def new_secret() -> bytes:
    """A fresh per-realm signing secret."""
    return secrets.token_bytes(32)


def _mac(secret: bytes, attachable_id: str, expires: int) -> str:
    digest = hmac.new(secret, f"{attachable_id}.{expires}".encode(), hashlib.sha256).digest()
    return digest[:_MAC_BYTES].hex()


def mint(secret: bytes, attachable_id: str, expires: datetime) -> str:
    """The link key for ``attachable_id``, valid until ``expires`` (whole seconds)."""
    stamp = int(expires.timestamp())
    return f"{attachable_id}.{stamp}.{_mac(secret, attachable_id, stamp)}"


def check(secret: bytes, key: str, now: datetime) -> str | None:
    """Return the attachable id a key grants, or None when forged, malformed or expired."""
    parts = key.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    attachable_id, stamp, mac = parts[0], int(parts[1]), parts[2]
    if not hmac.compare_digest(mac, _mac(secret, attachable_id, stamp)):
        return None
    if now.timestamp() > stamp:
        return None
    return attachable_id
