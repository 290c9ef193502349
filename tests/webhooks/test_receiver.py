"""The receiver over HTTP (raw bodies through Django's test client): handshake, auth, storage."""

from __future__ import annotations

import json
import logging

import pytest

from messaging.webhooks.models import Webhook, WebhookEvent

from .conftest import BICS_ID, SECRET, TOKEN, dlr

pytestmark = pytest.mark.django_db


def handshake(client, *, token, key="ourhook", body=None):
    body = body if body is not None else {"validation_key": token, "challenge": "a234qwe"}
    return client.generic("POST", f"/webhooks/bics/{key}/?token={token}", json.dumps(body),
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {SECRET}")


def test_handshake_with_the_right_token_answers_the_challenge(client, hook):
    resp = handshake(client, token=TOKEN)
    assert resp.status_code == 200 and resp.json() == {"challenge": "a234qwe"}
    hook.refresh_from_db()
    assert hook.verified_at is not None
    assert not WebhookEvent.objects.exists()


def test_handshake_with_a_wrong_token_is_refused(client, hook):
    resp = handshake(client, token="guess", body={"validation_key": "guess", "challenge": "x"})
    assert resp.status_code == 403 and "challenge" not in resp.json()
    hook.refresh_from_db()
    assert hook.verified_at is None


def test_handshake_of_a_webhook_without_token_is_refused(client, hook):
    Webhook.objects.filter(pk=hook.pk).update(token="")
    assert handshake(client, token="anything").status_code == 403


def test_unknown_webhook_is_404(deliver, hook):
    assert deliver(dlr(), path_key="nope").status_code == 404


def test_good_secret_and_signature_are_stored_and_answered_200(deliver, hook):
    resp = deliver(dlr())
    assert resp.status_code == 200 and resp.json()["status"] == "OK"
    event = WebhookEvent.objects.get()
    assert event.event_type == "sms:message:status" and event.webhook == hook
    assert event.payload["id"] == "m-1" and len(event.dedupe_key) == 64


def test_webhook_is_never_found_by_its_bics_id(deliver, hook):
    assert deliver(dlr(), path_key=BICS_ID).status_code == 404
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(("auth", "status"), [
    ({"secret": None}, 401),  # no Authorization, a signature keyed by the (public) webhook id
    ({"secret": None, "key": None}, 401),
    ({"secret": "wrong"}, 403),
])
def test_bad_or_missing_credentials_are_refused_and_nothing_stored(deliver, hook, auth, status):
    assert deliver(dlr(), **auth).status_code == status
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(("auth", "status"), [
    ({"signature": "deadbeef"}, 403),
    ({"key": BICS_ID}, 403),
    ({"secret": None, "key": BICS_ID}, 403),
    ({"secret": None, "key": SECRET}, 200),
])
def test_signatures_keyed_by_the_secret_are_checked_when_configured(deliver, hook, settings, auth, status):
    settings.BICS_WEBHOOK_SIGNATURE_KEY = "secret"
    assert deliver(dlr(), **auth).status_code == status
    assert WebhookEvent.objects.exists() == (status == 200)


def test_signature_is_optional_unless_required(deliver, hook, settings):
    assert deliver(dlr("m-1"), key=None).status_code == 200
    settings.BICS_WEBHOOK_REQUIRE_SIGNATURE = True
    assert deliver(dlr("m-2"), key=None).status_code == 401


def test_signature_keyed_by_the_secret_when_configured(deliver, hook, settings):
    settings.BICS_WEBHOOK_SIGNATURE_KEY = "secret"
    assert deliver(dlr("m-1"), key=SECRET).status_code == 200
    assert deliver(dlr("m-2"), key=BICS_ID).status_code == 403


def test_a_webhook_without_secret_refuses_every_callback(deliver, hook, caplog):
    Webhook.objects.filter(pk=hook.pk).update(secret="")
    with caplog.at_level(logging.WARNING, logger="messaging.webhooks"):
        assert deliver(dlr("m-1"), secret=None).status_code == 403  # signed with the webhook id
        assert deliver(dlr("m-2"), secret="", key=None).status_code == 403
    assert not WebhookEvent.objects.exists()
    assert "webhook has no secret" in caplog.text and "Generate a new secret" in caplog.text


def test_inactive_webhook_is_refused(deliver, hook):
    Webhook.objects.filter(pk=hook.pk).update(status="0")
    assert deliver(dlr()).status_code == 403


def test_refusals_are_logged_without_the_body_or_the_secret(deliver, hook, caplog):
    with caplog.at_level(logging.WARNING, logger="messaging.webhooks"):
        deliver(dlr(mobile="32470999888"), secret="wrong-secret-value")
    text = caplog.text
    assert "webhook refused: authorization mismatch" in text
    assert "32470999888" not in text and "wrong-secret-value" not in text and SECRET not in text


def test_not_json_is_400(deliver, hook):
    assert deliver(b"<xml/>").status_code == 400
    assert deliver({"hello": "world"}).status_code == 400


def test_get_is_allowed_other_methods_are_not(client, hook):
    assert client.put("/webhooks/bics/ourhook/").status_code == 405
