"""Login throttling (django-axes) and the idle session timeout."""

import time

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _login(client, password):
    return client.post(reverse("admin:login"), {"username": "eve", "password": password, "next": "/admin/"})


def test_repeated_wrong_passwords_lock_the_account_out(client, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_user("eve", password="right-password-123", is_staff=True)
    for _ in range(3):
        _login(client, "wrong")
    response = _login(client, "right-password-123")  # even the right password is refused now
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()


def test_a_successful_login_before_the_limit_resets_the_count(client, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_user("eve", password="right-password-123", is_staff=True)
    _login(client, "wrong")
    _login(client, "wrong")
    assert _login(client, "right-password-123").status_code == 302


def test_idle_sessions_end(client, admin_user, settings, monkeypatch):
    settings.SESSION_IDLE_TIMEOUT = 60
    client.force_login(admin_user)
    assert client.get("/").status_code == 200
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 120)
    response = client.get("/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
