"""Forging a BICS callback with what BICS shows anyone who sees its answers (the webhook's
id) fails: the receiver's URL key is random and never the id, the id is never a signing key,
and a webhook without a secret refuses callbacks."""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, transaction

from bics.webhooks import sign
from messaging.webhooks.models import Webhook, WebhookEvent
from tests.webhooks.conftest import _no_webhook_cache  # noqa: F401 - autouse: webhooks read fresh

pytestmark = pytest.mark.django_db

FORGED = json.dumps({"event": "sms:message:status",
                     "payload": {"id": "m-1", "mobile": "32470000001", "status": "DELIVRD"}}).encode()


def forge(client, key: str, bics_id: str, **headers):
    return client.generic("POST", f"/webhooks/bics/{key}/", FORGED, content_type="application/json",
                          HTTP_SIGNATURE=sign(FORGED, bics_id), **headers)


def test_a_pulled_webhook_without_secret_cannot_be_forged_with_its_bics_id(client):
    hook = Webhook.objects.create(name="pulled", uri="https://bo.example.com/webhooks/bics/x/", bics_id="4242")
    assert forge(client, "4242", "4242").status_code == 404  # the id is not a URL key
    assert forge(client, hook.slug, "4242").status_code == 403  # no secret: refused
    assert not WebhookEvent.objects.exists()


def test_a_webhook_with_a_secret_cannot_be_forged_with_its_bics_id(client):
    hook = Webhook.objects.create(name="ours", uri="https://bo.example.com/", bics_id="4243", secret="s" * 32)
    assert forge(client, hook.slug, "4243").status_code == 401
    assert forge(client, hook.slug, "4243", HTTP_AUTHORIZATION="Bearer 4243").status_code == 403
    assert not WebhookEvent.objects.exists()
    ok = client.generic("POST", f"/webhooks/bics/{hook.slug}/", FORGED, content_type="application/json",
                        HTTP_AUTHORIZATION="Bearer " + "s" * 32)
    assert ok.status_code == 200 and WebhookEvent.objects.count() == 1


def test_url_keys_are_random_and_never_the_bics_id():
    keys = {Webhook.objects.create(name=f"h{n}", uri="https://bo.example.com/").slug for n in range(20)}
    assert len(keys) == 20 and all(len(k) >= 16 for k in keys)
    hook = Webhook.objects.create(name="x", uri="https://bo.example.com/", bics_id="99")
    with pytest.raises(IntegrityError), transaction.atomic():
        Webhook.objects.filter(pk=hook.pk).update(slug="99")


def test_the_admin_says_how_to_set_a_secret(admin_client):
    hook = Webhook.objects.create(name="pulled", uri="https://bo.example.com/", bics_id="7")
    page = admin_client.get(f"/admin/webhooks/webhook/{hook.pk}/change/").content.decode()
    assert "refuses every callback" in page and "Generate a new secret" in page
    listing = admin_client.get("/admin/webhooks/webhook/").content.decode()
    assert "1 webhook(s) without a secret" in listing


def test_the_url_key_cannot_be_edited_in_the_admin(admin_client):
    hook = Webhook.objects.create(name="ours", uri="https://bo.example.com/", bics_id="8", secret="s" * 32)
    admin_client.post(f"/admin/webhooks/webhook/{hook.pk}/change/",
                      {"name": "ours", "uri": hook.uri, "status": "1", "slug": "8"})
    hook.refresh_from_db()
    assert hook.slug != "8"
