"""Verify settings: a Django setting wins, then the environment (.env), then the default.

The defaults are also listed in `.env.example` under "# --- Verify".
"""

from __future__ import annotations

import environ
from django.conf import settings

from core import masking

_env = environ.Env()

# name -> (type, default)
DEFAULTS: dict[str, tuple[type, object]] = {
    # Abuse limits: sends per number per hour, API requests per key per minute (0 = off).
    "VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR": (int, 5),
    "VERIFY_MAX_REQUESTS_PER_KEY_PER_MINUTE": (int, 60),
    # Redis for the abuse counters; empty: the Celery broker when it is Redis, else in-process.
    "VERIFY_RATELIMIT_REDIS_URL": (str, ""),
    # Channels in failover order when a caller names none.
    "VERIFY_DEFAULT_CHANNELS": (list, ["sms"]),
    # Extra keys per channel object sent to BICS, e.g. {"sms": {"config_id": "..."}} (JSON).
    "VERIFY_CHANNEL_OPTIONS": (dict, {}),
    # Used when BICS returns no expire_at (both documented samples show 100 s).
    "VERIFY_DEFAULT_TTL_SECONDS": (int, 100),
    # Numbers of requests older than this are masked for good.
    "VERIFY_NUMBER_RETENTION_DAYS": (int, 30),
}


def get(name: str):
    if hasattr(settings, name):
        return getattr(settings, name)
    kind, default = DEFAULTS[name]
    if kind is int:
        return _env.int(name, default=default)
    if kind is list:
        return _env.list(name, default=default)
    if kind is dict:
        return _env.json(name, default=default)
    return _env.str(name, default=default)


# Verify's own right to see whole numbers (numbers of OTP requests are Verify's business).
FULL_NUMBERS_PERMISSIONS = ("verify.view_full_numbers",)


def can_view_full_numbers(user) -> bool:
    return masking.can_view_full_numbers(user, FULL_NUMBERS_PERMISSIONS)


def number_for(user, number: str) -> str:
    return masking.number_for(user, number, FULL_NUMBERS_PERMISSIONS)


def ratelimit_redis_url() -> str:
    url = get("VERIFY_RATELIMIT_REDIS_URL")
    if url:
        return url
    broker = getattr(settings, "CELERY_BROKER_URL", "") or ""
    return broker if broker.startswith(("redis://", "rediss://")) else ""
