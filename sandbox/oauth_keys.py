"""The sandbox's id_token signing key and its JWKS (API.md §8.3: `id_token` with `openid`).

One RSA key per OAuth server, made on first use; `id_token`s are RS256 JWTs whose `kid`
names the key published at `jwks_uri`, so OpenID clients verify them as they would Intuit's.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_int(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class SigningKey:
    """An RSA key that signs id_tokens and describes itself as a JWK."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None
        self.kid = uuid.uuid4().hex

    def _private(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    def jwks(self) -> dict[str, Any]:
        """The JWKS document served at `jwks_uri`."""
        numbers = self._private().public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self.kid,
                    "n": _b64_int(numbers.n),
                    "e": _b64_int(numbers.e),
                }
            ]
        }

    def id_token(
        self, *, issuer: str, client_id: str, subject: str, realm_id: str, ttl: int = 3600
    ) -> str:
        """An RS256 id_token for one consent (claims as Intuit's: iss, aud, sub, realmid)."""
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        claims = {
            "iss": issuer,
            "aud": [client_id],
            "sub": subject,
            "realmid": realm_id,
            "auth_time": now,
            "iat": now,
            "exp": now + ttl,
        }
        signing_input = ".".join(
            _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self._private().sign(
            signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
        return f"{signing_input}.{_b64(signature)}"
