"""Abuse limits for Verify: fixed-window counters in Redis, or in process without Redis.

A window is `period` seconds aligned on the epoch; the first `limit` hits in a window pass,
the next ones are refused with the seconds left until the window ends. Redis counters are
shared by every web process and worker; the in-process fallback is per process (for
development and tests, where the Celery broker is `memory://`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from verify import conf

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    count: int
    retry_after: int  # seconds until the window resets (0 when allowed)


class RateLimitExceeded(Exception):
    def __init__(self, what: str, decision: Decision):
        self.what = what
        self.decision = decision
        self.retry_after = decision.retry_after
        super().__init__(
            f"Too many {what}: limit {decision.limit}; try again in {decision.retry_after} s."
        )


class LocalCounter:
    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window start, count)

    def hit(self, key: str, limit: int, period: int) -> Decision:
        now = self.clock()
        start = int(now // period) * period
        with self._lock:
            window, count = self._counts.get(key, (start, 0))
            if window != start:
                count = 0
            count += 1
            self._counts[key] = (start, count)
            if len(self._counts) > 100_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] + period > now}
        return _decide(count, limit, start + period - now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


class RedisCounter:
    def __init__(self, url: str, clock: Callable[[], float] = time.time):
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.clock = clock
        self.fallback = LocalCounter(clock)

    def hit(self, key: str, limit: int, period: int) -> Decision:
        import redis

        try:
            return self._hit(key, limit, period)
        except redis.RedisError as exc:
            # Limits still hold per process while Redis is away; sends are not blocked.
            logger.warning("verify rate limit: Redis unavailable (%s), counting in process", exc)
            return self.fallback.hit(key, limit, period)

    def _hit(self, key: str, limit: int, period: int) -> Decision:
        now = self.clock()
        start = int(now // period) * period
        window_key = f"{key}:{start}"
        pipe = self.redis.pipeline()
        pipe.incr(window_key)
        pipe.expire(window_key, period + 5)
        count, _ = pipe.execute()
        return _decide(int(count), limit, start + period - now)

    def reset(self, key: str) -> None:
        self.fallback.reset(key)
        for window_key in self.redis.scan_iter(match=f"{key}:*"):
            self.redis.delete(window_key)


def _decide(count: int, limit: int, seconds_left: float) -> Decision:
    if count <= limit:
        return Decision(True, limit, count, 0)
    return Decision(False, limit, count, max(1, int(seconds_left + 0.999)))


_lock = threading.Lock()
_counters: dict[str, object] = {}


def get_counter():
    url = conf.ratelimit_redis_url()
    with _lock:
        counter = _counters.get(url)
        if counter is None:
            counter = RedisCounter(url) if url else LocalCounter()
            _counters[url] = counter
        return counter


def _digest(value: str) -> str:
    # Keys never carry a phone number or an API key in clear.
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def number_key(number: str) -> str:
    return f"verify:rl:number:{_digest(number)}"


def api_client_key(client_id: int) -> str:
    return f"verify:rl:key:{client_id}"


def check_number(number: str) -> Decision:
    """Counts one send to `number`; raises RateLimitExceeded past the hourly limit."""
    limit = conf.get("VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR")
    if limit <= 0:
        return Decision(True, 0, 0, 0)
    decision = get_counter().hit(number_key(number), limit, 3600)
    if not decision.allowed:
        raise RateLimitExceeded("OTP requests for this number", decision)
    return decision


def check_api_client(client_id: int) -> Decision:
    """Counts one API request by a client; raises RateLimitExceeded past the per-minute limit."""
    limit = conf.get("VERIFY_MAX_REQUESTS_PER_KEY_PER_MINUTE")
    if limit <= 0:
        return Decision(True, 0, 0, 0)
    decision = get_counter().hit(api_client_key(client_id), limit, 60)
    if not decision.allowed:
        raise RateLimitExceeded("requests with this API key", decision)
    return decision


def reset_number(number: str) -> None:
    get_counter().reset(number_key(number))
