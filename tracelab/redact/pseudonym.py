"""Keyed pseudonyms for identities: stable across files and runs that share a key.

``HMAC-SHA256(key, namespace || 0x00 || value)`` truncated to 6 hex digits (24 bits: collisions
among a few thousand names are unlikely and harmless — two people would share a label). Without
the key a pseudonym cannot be checked against a guessed name, which a plain hash would allow.

Shapes are chosen so that the detectors skip them (redaction is idempotent):
``user_3f2a9c`` (home-directory names), ``user_3f2a9c@example.invalid`` (emails),
``host-3f2a9c.example.invalid`` (host names).
"""

from __future__ import annotations

import hashlib
import hmac
import os

__all__ = ["Pseudonymizer", "key_from_env", "random_key", "KEY_ENV"]

KEY_ENV = "TRACELAB_REDACT_KEY"


def key_from_env() -> bytes | None:
    """The pseudonym key from ``TRACELAB_REDACT_KEY`` (UTF-8), or ``None``."""
    value = os.environ.get(KEY_ENV)
    return value.encode("utf-8") if value else None


def random_key() -> bytes:
    """A fresh key: pseudonyms are then stable within one run only."""
    return os.urandom(32)


class Pseudonymizer:
    """Maps names/emails/hosts to keyed pseudonyms (memoised)."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("a non-empty pseudonym key is required")
        self._key = bytes(key)
        self._cache: dict[tuple[str, str], str] = {}

    def digest(self, namespace: str, value: str) -> str:
        k = (namespace, value)
        d = self._cache.get(k)
        if d is None:
            msg = namespace.encode() + b"\x00" + value.encode("utf-8", "surrogatepass")
            d = hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:6]
            self._cache[k] = d
        return d

    def key_id(self) -> str:
        """A public identifier of the key (lets two runs be compared without revealing it)."""
        return hmac.new(self._key, b"tracelab-redact-key-id", hashlib.sha256).hexdigest()[:12]

    def user(self, name: str) -> str:
        return f"user_{self.digest('user', name)}"

    def email(self, address: str) -> str:
        return f"user_{self.digest('email', address.lower())}@example.invalid"

    def host(self, name: str) -> str:
        return f"host-{self.digest('host', name.lower().rstrip('.'))}.example.invalid"
