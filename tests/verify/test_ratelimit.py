import time

import pytest

from verify import ratelimit


class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_local_counter_refuses_past_the_limit_with_seconds_to_wait():
    clock = FakeClock(3600 * 100 + 600)  # 10 minutes into an hour window
    counter = ratelimit.LocalCounter(clock)
    assert [counter.hit("k", 2, 3600).allowed for _ in range(3)] == [True, True, False]
    assert counter.hit("k", 2, 3600).retry_after == 3000


def test_local_counter_resets_with_the_next_window():
    clock = FakeClock(60 * 1000)
    counter = ratelimit.LocalCounter(clock)
    counter.hit("k", 1, 60)
    assert not counter.hit("k", 1, 60).allowed
    clock.now += 60
    assert counter.hit("k", 1, 60).allowed


def test_local_counter_reset_clears_a_key():
    counter = ratelimit.LocalCounter(FakeClock())
    counter.hit("k", 1, 60)
    counter.reset("k")
    assert counter.hit("k", 1, 60).allowed


def test_number_limit_from_settings(settings):
    settings.VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR = 2
    ratelimit.check_number("+32470123456")
    ratelimit.check_number("+32470123456")
    with pytest.raises(ratelimit.RateLimitExceeded) as caught:
        ratelimit.check_number("+32470123456")
    assert 1 <= caught.value.retry_after <= 3600
    ratelimit.check_number("+32470123457")  # another number has its own counter
    ratelimit.reset_number("+32470123456")
    ratelimit.check_number("+32470123456")


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
    assert isinstance(ratelimit.get_counter(), ratelimit.LocalCounter)


@pytest.mark.redis
def test_redis_counter_is_shared_and_resets(redis_url, redis_client, settings):
    settings.VERIFY_RATELIMIT_REDIS_URL = redis_url
    settings.VERIFY_MAX_REQUESTS_PER_KEY_PER_MINUTE = 3
    assert isinstance(ratelimit.get_counter(), ratelimit.RedisCounter)
    for _ in range(3):
        ratelimit.check_api_client(7)
    with pytest.raises(ratelimit.RateLimitExceeded) as caught:
        ratelimit.check_api_client(7)
    assert 1 <= caught.value.retry_after <= 60
    # A second process sees the same counter.
    other = ratelimit.RedisCounter(redis_url)
    assert not other.hit(ratelimit.api_client_key(7), 3, 60).allowed
    assert redis_client.keys("verify:rl:key:7:*")


@pytest.mark.redis
def test_redis_counter_window_expires(redis_url, redis_client):
    counter = ratelimit.RedisCounter(redis_url)
    start = time.time()
    # Align on a fresh 1-second window, then fill it.
    time.sleep(1 - (start % 1) + 0.01)
    assert counter.hit("t", 1, 1).allowed
    assert not counter.hit("t", 1, 1).allowed
    time.sleep(1.05)
    assert counter.hit("t", 1, 1).allowed


@pytest.mark.redis
def test_redis_reset_clears_the_number(redis_url, redis_client, settings):
    settings.VERIFY_RATELIMIT_REDIS_URL = redis_url
    settings.VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR = 1
    ratelimit.check_number("+32470123456")
    with pytest.raises(ratelimit.RateLimitExceeded):
        ratelimit.check_number("+32470123456")
    ratelimit.reset_number("+32470123456")
    ratelimit.check_number("+32470123456")


def test_redis_down_falls_back_to_counting_in_process():
    counter = ratelimit.RedisCounter("redis://127.0.0.1:9/0")
    assert counter.hit("k", 1, 60).allowed
    assert not counter.hit("k", 1, 60).allowed
