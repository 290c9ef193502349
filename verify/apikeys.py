"""API keys for /verify/api/: `vk_<prefix>_<secret>`, stored as a salted SHA-256.

The prefix (public, unique) finds the client; the secret is checked in constant time.
Keys carry 192 random bits, so a fast salted hash is enough (a password hasher's work factor
protects low-entropy secrets, and would cost every API call tens of milliseconds).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "vk"


@dataclass(frozen=True)
class NewKey:
    prefix: str
    salt: str
    hash: str
    raw: str  # shown once, never stored


def hash_secret(secret: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def generate() -> NewKey:
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(24)
    salt = secrets.token_hex(16)
    return NewKey(prefix, salt, hash_secret(secret, salt), f"{KEY_PREFIX}_{prefix}_{secret}")


def split(raw: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def matches(secret: str, salt: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret, salt), expected_hash)
