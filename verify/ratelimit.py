"""Verify's abuse limits, on the kernel's moving-window limiter (`core.ratelimit`).

Sends per number per hour and API requests per key per minute. The counters are shared
through Redis (VERIFY_RATELIMIT_REDIS_URL, else the Celery broker when it is Redis) and kept
in process otherwise; keys never carry a phone number or an API key in clear.
"""

from __future__ import annotations

import hashlib

from core.ratelimit import Decision, RateLimiter, RateLimitExceeded, get_limiter
from verify import conf

__all__ = ["Decision", "RateLimitExceeded", "check_api_client", "check_number", "get_counter",
           "reset_number"]

PREFIX = "verify:rl"
HOUR, MINUTE = 3600, 60


def get_counter() -> RateLimiter:
    return get_limiter(conf.ratelimit_redis_url(), PREFIX)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def number_key(number: str) -> str:
    return f"number:{_digest(number)}"


def api_client_key(client_id: int) -> str:
    return f"key:{client_id}"


def check_number(number: str) -> Decision:
    """Counts one send to `number`; raises RateLimitExceeded past the hourly limit."""
    limit = conf.get("VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR")
    return get_counter().check("OTP requests for this number", number_key(number), limit, HOUR)


def check_api_client(client_id: int) -> Decision:
    """Counts one API request by a client; raises RateLimitExceeded past the per-minute limit."""
    limit = conf.get("VERIFY_MAX_REQUESTS_PER_KEY_PER_MINUTE")
    return get_counter().check("requests with this API key", api_client_key(client_id), limit, MINUTE)


def reset_number(number: str) -> None:
    limit = conf.get("VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR")
    if limit > 0:
        get_counter().reset(number_key(number), limit, HOUR)
