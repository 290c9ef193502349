"""The kernel's rate limiter (`limits`, moving window): refusing limits and the waiting budget."""

import time

import pytest

from core.ratelimit import Budget, RateLimiter, RateLimitExceeded


def _poll_until_allowed(limiter, key, limit, period, deadline_s):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if limiter.hit(key, limit, period).allowed:
            return True
        time.sleep(0.05)
    return False


def test_limit_refuses_past_the_limit_with_the_seconds_to_wait():
    limiter = RateLimiter()
    assert [limiter.hit("k", 2, 3600).allowed for _ in range(3)] == [True, True, False]
    refused = limiter.hit("k", 2, 3600)
    assert not refused.allowed and refused.remaining == 0 and 3590 <= refused.retry_after <= 3600
    assert limiter.used("k", 2, 3600)[0] == 2


def test_check_raises_and_zero_is_off():
    limiter = RateLimiter()
    limiter.check("sends", "k", 1, 60)
    with pytest.raises(RateLimitExceeded, match="Too many sends: limit 1"):
        limiter.check("sends", "k", 1, 60)
    for _ in range(50):
        assert limiter.check("sends", "off", 0, 60).allowed


def test_reset_clears_a_key_only():
    limiter = RateLimiter()
    limiter.hit("a", 1, 60)
    limiter.hit("b", 1, 60)
    limiter.reset("a", 1, 60)
    assert limiter.hit("a", 1, 60).allowed
    assert not limiter.hit("b", 1, 60).allowed


def test_the_window_moves_a_hit_frees_its_place_one_period_later():
    limiter = RateLimiter()
    start = time.monotonic()
    assert limiter.hit("w", 1, 1).allowed
    assert not limiter.hit("w", 1, 1).allowed
    assert _poll_until_allowed(limiter, "w", 1, 1, deadline_s=3)
    assert time.monotonic() - start >= 0.9


def test_budget_waits_instead_of_refusing():
    waits = []
    budget = Budget(RateLimiter(), "acct", rate=3, per=60, sleep=waits.append)
    for _ in range(3):
        budget.acquire()
    assert waits == [] and budget.usage() == (3, 3)
    assert 59 <= budget.try_acquire() <= 60  # nothing taken
    assert budget.usage() == (3, 3)


def test_budget_refuses_nonsense():
    with pytest.raises(ValueError):
        Budget(RateLimiter(), "acct", rate=0)


def test_redis_down_counts_in_process():
    limiter = RateLimiter("redis://127.0.0.1:9/0")
    assert limiter.hit("k", 1, 60).allowed
    assert not limiter.hit("k", 1, 60).allowed


@pytest.mark.redis
def test_redis_budget_is_shared_by_every_client(redis_url, redis_client):
    first = Budget(RateLimiter(redis_url, prefix="bics:get-budget"), "acct", rate=2, per=60)
    second = Budget(RateLimiter(redis_url, prefix="bics:get-budget"), "acct", rate=2, per=60)
    assert first.try_acquire() == 0.0 and second.try_acquire() == 0.0
    assert first.try_acquire() > 0 and second.try_acquire() > 0
    assert first.usage() == (2, 2)
