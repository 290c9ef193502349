"""Rate limits, once: a moving window on the `limits` library, in Redis or in process.

A moving window admits at most `limit` hits in *any* `period` seconds (no double burst at a
window edge, unlike fixed windows). Two users:

* refusing limits (Verify: sends per number per hour, API requests per key per minute):
  ``RateLimiter.hit`` answers a ``Decision``; ``check`` raises ``RateLimitExceeded`` with the
  seconds to wait;
* the BICS GET budget (1000 GETs per minute per account, then 429): ``Budget`` waits instead
  of refusing, and is what ``core.bics`` hands the client as its ``rate_limiter``.

With a Redis URL every web process and worker shares the counts; without one (development,
tests with a ``memory://`` broker) they are per process. If Redis is unreachable the limiter
logs once and counts in process rather than stopping traffic.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)

__all__ = ["Budget", "Decision", "RateLimitExceeded", "RateLimiter", "get_limiter"]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds until a hit is admitted again (0 when allowed)


class RateLimitExceeded(Exception):
    def __init__(self, what: str, decision: Decision):
        self.what = what
        self.decision = decision
        self.retry_after = decision.retry_after
        super().__init__(f"Too many {what}: limit {decision.limit}; try again in {decision.retry_after} s.")


def _item(limit: int, period: float) -> RateLimitItemPerSecond:
    return RateLimitItemPerSecond(int(limit), max(1, int(round(period))))


class RateLimiter:
    """Moving-window counters under `prefix`, in Redis when `url` is given, else in process."""

    def __init__(self, url: str = "", *, prefix: str = "rl"):
        self.prefix = prefix
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis = None
        if url:
            storage = RedisStorage(url, key_prefix=prefix, wrap_exceptions=True,
                                   socket_timeout=2, socket_connect_timeout=2)
            self._redis = MovingWindowRateLimiter(storage)
        self._warned = False

    def _call(self, method: str, *args):
        if self._redis is not None:
            try:
                answer = getattr(self._redis, method)(*args)
            except StorageError as exc:
                if not self._warned:
                    logger.warning("rate limit %s: Redis unavailable (%s); counting in process",
                                   self.prefix, type(exc.storage_error).__name__)
                    self._warned = True
            else:
                self._warned = False
                return answer
        return getattr(self._memory, method)(*args)

    def hit(self, key: str, limit: int, period: float) -> Decision:
        """Counts one hit of `key` unless `limit` hits were counted in the last `period` s."""
        item = _item(limit, period)
        allowed = self._call("hit", item, key)
        reset_at, remaining = self._call("get_window_stats", item, key)
        retry = 0 if allowed else max(1, int(reset_at - time.time() + 0.999))
        return Decision(bool(allowed), int(limit), int(remaining), retry)

    def check(self, what: str, key: str, limit: int, period: float) -> Decision:
        """`hit`, raising RateLimitExceeded when refused; a limit of 0 or less is off."""
        if limit <= 0:
            return Decision(True, 0, 0, 0)
        decision = self.hit(key, limit, period)
        if not decision.allowed:
            raise RateLimitExceeded(what, decision)
        return decision

    def used(self, key: str, limit: int, period: float) -> tuple[int, float]:
        """(hits in the current window, seconds until one leaves it), counting nothing."""
        reset_at, remaining = self._call("get_window_stats", _item(limit, period), key)
        return int(limit) - int(remaining), max(0.0, reset_at - time.time())

    def reset(self, key: str, limit: int, period: float) -> None:
        self._memory.clear(_item(limit, period), key)
        if self._redis is not None:
            self._call("clear", _item(limit, period), key)


_lock = threading.Lock()
_limiters: dict[tuple[str, str], RateLimiter] = {}


def get_limiter(url: str, prefix: str) -> RateLimiter:
    """The process's limiter for (url, prefix): counts in process live as long as it does."""
    with _lock:
        limiter = _limiters.get((url, prefix))
        if limiter is None:
            limiter = _limiters[(url, prefix)] = RateLimiter(url, prefix=prefix)
        return limiter


def forget_limiters() -> None:
    """Drops every cached limiter (tests start from empty in-process counts)."""
    with _lock:
        _limiters.clear()


class Budget:
    """A budget of `rate` calls per `per` seconds that waits instead of refusing.

    Satisfies the BICS client's ``rate_limiter`` interface (``acquire``); ``usage`` tells the
    alerts how much of the window is spent without spending any.
    """

    def __init__(self, limiter: RateLimiter, key: str, *, rate: int, per: float = 60.0, sleep=time.sleep):
        if rate < 1 or per <= 0:
            raise ValueError("rate must be >= 1 and per > 0")
        self.limiter, self.key, self.rate, self.per = limiter, key, int(rate), float(per)
        self._sleep = sleep

    def try_acquire(self) -> float:
        """Take one call and return 0.0, or return the seconds to wait (nothing taken)."""
        if self.limiter.hit(self.key, self.rate, self.per).allowed:
            return 0.0
        _, wait = self.limiter.used(self.key, self.rate, self.per)
        return max(wait, 0.001)

    def acquire(self) -> None:
        while (wait := self.try_acquire()) > 0:
            self._sleep(wait)

    def usage(self) -> tuple[int, int]:
        """(calls in the current window, rate)."""
        return self.limiter.used(self.key, self.rate, self.per)[0], self.rate

    def __repr__(self) -> str:  # never the Redis URL (it may hold a password)
        return f"Budget(key={self.key!r}, rate={self.rate}, per={self.per:g})"
