"""GET budget: BICS allows 1000 GET requests per minute per account (Rate Limits), then 429.

The client calls ``acquire()`` before every GET and waits instead of collecting 429s.

Both buckets hand out at most ``rate`` tokens in any window of ``per`` seconds: a token taken
at time t comes back at t + per (a token bucket of capacity ``rate`` whose tokens refill one by
one, ``per`` seconds after each was taken). That is strict for any window, sliding or fixed,
so a full burst never makes the next minute exceed the limit, which a classic continuously
refilled bucket of capacity ``rate`` would (up to 2x).

``RedisTokenBucket`` keeps the taken tokens in one sorted set and decides in a Lua script
(atomic, with the Redis server clock), so every worker, web and beat process of an account
shares one budget. If Redis is unreachable it logs a warning and falls back to an in-process
bucket rather than stopping all traffic.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from typing import Protocol, runtime_checkable

__all__ = ["LocalTokenBucket", "RedisTokenBucket", "TokenBucket"]

logger = logging.getLogger("bics.ratelimit")


@runtime_checkable
class TokenBucket(Protocol):
    def acquire(self) -> None:
        """Block until a token is available, then take it."""


class LocalTokenBucket:
    """In-process bucket (thread-safe). The client's default."""

    def __init__(self, rate: int = 1000, per: float = 60.0, *, clock=time.monotonic,
                 sleep=time.sleep) -> None:
        if rate < 1 or per <= 0:
            raise ValueError("rate must be >= 1 and per > 0")
        self.rate = int(rate)
        self.per = float(per)
        self._clock = clock
        self._sleep = sleep
        self._taken: deque[float] = deque()
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        """Take a token and return 0.0, or return the seconds to wait (nothing taken)."""
        with self._lock:
            now = self._clock()
            while self._taken and self._taken[0] <= now - self.per:
                self._taken.popleft()
            if len(self._taken) < self.rate:
                self._taken.append(now)
                return 0.0
            return max(self._taken[0] + self.per - now, 0.001)

    def acquire(self) -> None:
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            self._sleep(wait)

    def __repr__(self) -> str:
        return f"LocalTokenBucket(rate={self.rate}, per={self.per:g})"


_LUA = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local per = tonumber(ARGV[2])
local member = ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - per)
local count = redis.call('ZCARD', key)
if count < rate then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(per * 1000) + 1000)
  return '0'
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + per - now
if wait < 0.001 then wait = 0.001 end
return tostring(wait)
"""


class RedisTokenBucket:
    """Bucket shared by every process through Redis (atomic Lua script)."""

    def __init__(self, redis_url: str, key: str = "bics:get-budget", rate: int = 1000,
                 per: float = 60.0, *, sleep=time.sleep, socket_timeout: float = 2.0) -> None:
        import redis  # installed (requirements.txt); imported lazily for plain users

        if rate < 1 or per <= 0:
            raise ValueError("rate must be >= 1 and per > 0")
        self.key = key
        self.rate = int(rate)
        self.per = float(per)
        self._sleep = sleep
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=socket_timeout,
                                           socket_connect_timeout=socket_timeout)
        self._script = self._redis.register_script(_LUA)
        self._errors = (redis.RedisError, OSError)
        self._fallback = LocalTokenBucket(rate, per, sleep=sleep)
        self._warned = False

    def try_acquire(self) -> float:
        """Take a token and return 0.0, or return the seconds to wait (nothing taken)."""
        try:
            wait = float(self._script(keys=[self.key],
                                      args=[self.rate, self.per, uuid.uuid4().hex]))
        except self._errors as exc:
            if not self._warned:
                logger.warning("bics GET budget: Redis unavailable (%s); using an in-process "
                               "bucket", type(exc).__name__)
                self._warned = True
            return self._fallback.try_acquire()
        if self._warned:
            logger.info("bics GET budget: Redis is back")
            self._warned = False
        return wait

    def acquire(self) -> None:
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            self._sleep(wait)

    def __repr__(self) -> str:  # never shows the Redis URL (it may hold a password)
        return f"RedisTokenBucket(key={self.key!r}, rate={self.rate}, per={self.per:g})"
