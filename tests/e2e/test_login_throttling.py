"""Password guessing through the real login form ends in a lock-out page (django-axes)."""

import pytest

from .axe import assert_accessible

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_guessing_passwords_locks_the_account_out(page, live_server, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_user(username="eve", password="right-password-123", is_staff=True)
    for password in ("guess-1", "guess-2", "guess-3", "right-password-123"):
        page.goto(f"{live_server.url}/admin/login/")
        page.get_by_label("Username").fill("eve")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
    assert "Too many failed sign-ins" in page.content()  # even the right password, now
    assert_accessible(page)
