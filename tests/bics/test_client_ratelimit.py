"""GET budget buckets: in-process and Redis (shared by several processes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from bics.ratelimit import LocalTokenBucket, RedisTokenBucket, TokenBucket

ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_local_bucket_allows_rate_per_window_then_waits():
    clock = FakeClock()
    bucket = LocalTokenBucket(3, 10, clock=clock, sleep=clock.sleep)
    assert isinstance(bucket, TokenBucket)
    for _ in range(3):
        bucket.acquire()
    assert clock.slept == []
    assert bucket.try_acquire() == pytest.approx(10)
    bucket.acquire()  # waits for the first token to come back
    assert clock.slept == [pytest.approx(10)]


def test_local_bucket_never_exceeds_rate_in_any_window():
    clock = FakeClock()
    bucket = LocalTokenBucket(5, 60, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(23):
        bucket.acquire()
        stamps.append(clock.now)
        clock.now += 1.7
    for start in stamps:
        assert sum(1 for s in stamps if start <= s < start + 60) <= 5


def test_local_bucket_is_thread_safe():
    bucket = LocalTokenBucket(50, 60)
    granted = []
    lock = threading.Lock()

    def worker():
        for _ in range(20):
            if bucket.try_acquire() == 0:
                with lock:
                    granted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 50


def test_invalid_rates_are_rejected():
    with pytest.raises(ValueError, match="rate"):
        LocalTokenBucket(0, 60)


@pytest.mark.redis
def test_redis_bucket_waits_when_empty(redis_url):
    bucket = RedisTokenBucket(redis_url, key=f"t:{uuid.uuid4().hex}", rate=2, per=1)
    started = time.monotonic()
    for _ in range(3):
        bucket.acquire()
    assert 0.8 <= time.monotonic() - started < 3
    assert "redis://" not in repr(bucket)


_WORKER = textwrap.dedent("""
    import sys, time
    from bics.ratelimit import RedisTokenBucket
    url, key, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    bucket = RedisTokenBucket(url, key=key, rate=20, per=30)
    while time.time() < start:
        time.sleep(0.005)
    granted = sum(1 for _ in range(15) if bucket.try_acquire() == 0)
    print(granted)
""")


@pytest.mark.redis
def test_redis_bucket_is_shared_by_two_processes(redis_url):
    key = f"t:{uuid.uuid4().hex}"
    start = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, redis_url, key, str(start)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    granted = [int(out.strip()) for out, _ in outputs]
    assert sum(granted) == 20  # 30 attempts, one shared budget of 20


@pytest.mark.redis
def test_redis_bucket_falls_back_when_redis_is_down(caplog):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bucket = RedisTokenBucket(f"redis://127.0.0.1:{port}/0", rate=2, per=60,
                              socket_timeout=0.2)
    assert bucket.try_acquire() == 0
    assert bucket.try_acquire() == 0
    assert bucket.try_acquire() > 0
    assert "in-process" in caplog.text
