"""CSRF on every form: a POST without the token is refused (403) on every admin add page and
action, every staff form, and the login page. The only exempt views are the Verify API, which
authenticates by API key (refused without one), and the BICS webhook receiver (signature)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db
MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)
STAFF_FORMS = ["/campaigns/send/", "/voice/tts/", "/voice/click2call/", "/voice/status/", "/verify/send/",
               "/messaging/templates/preview/"]
EXEMPT_ALLOWED = {"verify.api", "messaging.webhooks.base", "messaging.webhooks.views"}  # API key; webhook signature or secret


@pytest.fixture
def strict(django_user_model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_superuser(username="root", password="x"))
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_admin_forms_and_actions_refuse_a_post_without_csrf_token(strict, model):
    opts = model._meta
    add = strict.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), {})
    assert add.status_code == 403
    action = strict.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
                         {"action": "delete_selected", "_selected_action": ["1"]})
    assert action.status_code == 403


@pytest.mark.parametrize("url", STAFF_FORMS)
def test_staff_forms_refuse_a_post_without_csrf_token(strict, url):
    assert strict.post(url, {}).status_code == 403


def test_login_form_refuses_a_post_without_csrf_token():
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403


def _views(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from _views(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_only_self_authenticating_views_are_csrf_exempt():
    exempt = {url: cb.__module__ for url, cb in _views() if getattr(cb, "csrf_exempt", False)}
    unexpected = {url: mod for url, mod in exempt.items() if mod not in EXEMPT_ALLOWED
                  and not mod.startswith("django.contrib.admin")}
    assert not unexpected, unexpected


def test_csrf_exempt_verify_api_refuses_requests_without_an_api_key():
    response = Client(enforce_csrf_checks=True).post("/verify/api/otp/", {"to": "+32470000001"},
                                                      content_type="application/json")
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("headers", [{}, {"HTTP_SIGNATURE": "0" * 64}, {"HTTP_AUTHORIZATION": "Bearer wrong"}],
                         ids=["unsigned", "bad-signature", "bad-secret"])
def test_csrf_exempt_webhook_receiver_refuses_unauthenticated_posts(headers):
    from messaging.webhooks.models import WebhookEvent

    body = b'{"event": "sms:message:status", "payload": {"id": "g:1", "status": "DELIVRD"}}'
    response = Client(enforce_csrf_checks=True).post("/webhooks/bics/unknown-key/", body,
                                                     content_type="application/json", **headers)
    assert response.status_code in (401, 403, 404)
    assert not WebhookEvent.objects.exists()
