"""Verify's abuse limits: its policy (keys, settings, reset) on the kernel's limiter."""

import pytest

from core.ratelimit import RateLimiter, get_limiter
from verify import ratelimit


def test_number_limit_from_settings(settings):
    settings.VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR = 2
    ratelimit.check_number("+32470123456")
    ratelimit.check_number("+32470123456")
    with pytest.raises(ratelimit.RateLimitExceeded) as caught:
        ratelimit.check_number("+32470123456")
    assert 3590 <= caught.value.retry_after <= 3600
    assert "OTP requests for this number" in str(caught.value)
    ratelimit.check_number("+32470123457")  # another number has its own counter
    ratelimit.reset_number("+32470123456")
    ratelimit.check_number("+32470123456")


def test_api_client_limit_is_per_key(settings):
    settings.VERIFY_MAX_REQUESTS_PER_KEY_PER_MINUTE = 1
    ratelimit.check_api_client(1)
    with pytest.raises(ratelimit.RateLimitExceeded) as caught:
        ratelimit.check_api_client(1)
    assert 1 <= caught.value.retry_after <= 60
    ratelimit.check_api_client(2)


def test_zero_disables_a_limit(settings):
    settings.VERIFY_MAX_REQUESTS_PER_KEY_PER_MINUTE = 0
    for _ in range(100):
        ratelimit.check_api_client(1)


def test_counter_keys_never_carry_the_number():
    assert "470123456" not in ratelimit.number_key("+32470123456")


def test_broker_redis_is_used_when_no_verify_redis_is_set(settings):
    from verify import conf

    settings.VERIFY_RATELIMIT_REDIS_URL = ""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert conf.ratelimit_redis_url() == "redis://127.0.0.1:6379/0"
    settings.CELERY_BROKER_URL = "memory://"
    assert conf.ratelimit_redis_url() == ""
    assert ratelimit.get_counter() is get_limiter("", ratelimit.PREFIX)


@pytest.mark.redis
def test_redis_counter_is_shared_between_processes(redis_url, redis_client, settings):
    settings.VERIFY_RATELIMIT_REDIS_URL = redis_url
    settings.VERIFY_MAX_REQUESTS_PER_KEY_PER_MINUTE = 3
    for _ in range(3):
        ratelimit.check_api_client(7)
    with pytest.raises(ratelimit.RateLimitExceeded):
        ratelimit.check_api_client(7)
    # Another process (another limiter on the same Redis) sees the same count.
    other = RateLimiter(redis_url, prefix=ratelimit.PREFIX)
    assert not other.hit(ratelimit.api_client_key(7), 3, 60).allowed
    keys = [key.decode() for key in redis_client.keys("*")]
    assert keys and all(key.startswith(ratelimit.PREFIX) for key in keys)


@pytest.mark.redis
def test_redis_reset_clears_the_number(redis_url, redis_client, settings):
    settings.VERIFY_RATELIMIT_REDIS_URL = redis_url
    settings.VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR = 1
    ratelimit.check_number("+32470123456")
    with pytest.raises(ratelimit.RateLimitExceeded):
        ratelimit.check_number("+32470123456")
    ratelimit.reset_number("+32470123456")
    ratelimit.check_number("+32470123456")
    assert not any(b"470123456" in key for key in redis_client.keys("*"))
