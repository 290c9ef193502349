"""Fixtures shared by the whole suite: real services started on free loopback ports."""

import shutil
import socket
import subprocess
import time

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@pytest.fixture(scope="session")
def redis_url():
    """A private redis-server for the session (no persistence), as a URL."""
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed: run scripts/ensure_packages.sh redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def sandbox_server():
    """The BICS sandbox, a real HTTP server on a free port, for the whole session."""
    from bics.sandbox import SandboxServer

    server = SandboxServer(port=0, seed=1234)
    server.start()
    yield server
    server.stop()


SANDBOX_TOKEN = "test-account-token-0123456789"


@pytest.fixture
def bics_sandbox(sandbox_server, settings):
    """Points Django's BICS settings at a freshly reset sandbox account."""
    import requests

    requests.post(sandbox_server.url.split("/api/v2/")[0] + "/_sandbox/reset", timeout=5).raise_for_status()
    settings.BICS_API_BASE_URL = sandbox_server.url
    settings.BICS_API_TOKEN = SANDBOX_TOKEN
    settings.BICS_RETRIES = 1
    settings.BICS_READ_TIMEOUT = 5
    yield sandbox_server


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (healthz, rate counters and the like)."""
    from django.core.cache import cache

    cache.clear()
    yield
