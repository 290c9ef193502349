"""Fixtures shared by the whole suite: real services started on free loopback ports, and a real
browser (Playwright driving Debian's Chromium) for the staff flows."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.throwaway_postgres import free_port, wait_for_port  # noqa: F401 - also imported from here by tests


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
    """The BICS sandbox, a real HTTP server on a free port, for the whole session; its naive
    timestamps are in BICS_TIME_ZONE, as the product reads them."""
    from django.conf import settings

    from bics.sandbox import SandboxServer

    server = SandboxServer(port=0, seed=1234, time_zone=settings.BICS_TIME_ZONE)
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


# --- Browser --------------------------------------------------------------------------------

# Playwright's sync API runs an event loop in this thread; the live server's database calls
# happen in other threads, and the test's own ORM calls are synchronous by design.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_packages.sh chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """Saves a full-page screenshot under docs/screenshots/ (used by the README)."""

    def save(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def login(live_server, django_user_model):
    """Signs a page in through the real admin login form."""

    def sign_in(page, username="staff", password="correct-horse-battery", **flags):
        flags.setdefault("is_staff", True)
        if not django_user_model.objects.filter(username=username).exists():
            django_user_model.objects.create_user(username=username, password=password, **flags)
        page.goto(f"{live_server.url}/admin/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/admin/")
        return page

    return sign_in


