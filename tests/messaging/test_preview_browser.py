"""The live preview in a real browser: typing in the template form shows charset, parts, rules."""

import pytest

from tests.e2e import conftest as e2e

login, page = e2e.login, e2e.page  # the shared e2e fixtures (they live in tests/e2e/conftest.py)


@pytest.fixture(scope="module")
def browser():
    """tests/e2e's browser, unless tests/e2e already runs one in this session (two sync
    Playwright instances cannot share a thread): then this test is skipped (NEEDS-messaging.md)."""
    import asyncio

    if asyncio._get_running_loop() is not None:
        pytest.skip("Playwright already runs for tests/e2e; run this file alone")
    yield from e2e.browser.__wrapped__()

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_live_preview_updates_while_typing(page, login, live_server):
    login(page, username="root", is_superuser=True)
    page.goto(f"{live_server.url}/admin/messaging/template/add/")
    content = page.locator("#id_content")
    content.fill("Hello {{name}}, " + "a" * 150)
    page.wait_for_selector(".template-preview >> text=2 parts")
    assert "GSM-7" in page.inner_text(".template-preview")
    content.fill("Hello  {{name}} ✓")
    page.wait_for_selector(".template-preview >> text=Unicode")
    text = page.inner_text(".template-preview")
    assert "[double-space]" in text
    assert page.locator(".template-preview mark").inner_text() == "✓"
