"""The live preview in a real browser: typing in the template form shows charset, parts, rules."""

import pytest

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
