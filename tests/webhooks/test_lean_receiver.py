"""The receiver's lean path (``messaging.webhooks.receiver_wsgi``) through the project's WSGI
application (``config.wsgi.application``), called as a server calls it: a signed JSON
callback is stored and answered without Django's stack; everything else (refusals, the
handshake, customised GET and form webhooks, unknown webhooks) is Django's, unchanged."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import transaction

from config.wsgi import application
from messaging.campaigns.models import DeliveryReport, Message
from messaging.webhooks import ingest, receiver_wsgi
from messaging.webhooks.append import append_event
from messaging.webhooks.base import OK_BODY
from messaging.webhooks.models import Webhook, WebhookEvent
from messaging.webhooks.parsing import parse_body
from tests.concurrency import on_postgresql, run_on_postgresql

from .conftest import PATH, SECRET, TOKEN, call, dlr, headers_for, post

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as under a real server


@pytest.fixture
def to_django(monkeypatch):
    """The paths of the requests the lean path handed on to Django."""
    seen: list[str] = []
    django_app = application.app

    def recording(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return django_app(environ, start_response)

    monkeypatch.setattr(application, "app", recording)
    return seen


def test_a_signed_json_callback_is_stored_by_the_lean_path_and_answered_200(hook, to_django):
    status, content = post(dlr("m-1"))
    assert (status, content) == (200, OK_BODY)
    assert to_django == []
    event = WebhookEvent.objects.get()
    assert event.webhook == hook and event.event_type == "sms:message:status" and event.method == "POST"
    assert event.payload["id"] == "m-1" and event.raw == dlr("m-1") and len(event.dedupe_key) == 64


def test_a_retry_is_answered_200_and_stored_once(hook, to_django):
    assert post(dlr("m-1"))[0] == 200
    assert post(dlr("m-1"))[0] == 200
    assert to_django == [] and WebhookEvent.objects.count() == 1


@pytest.mark.parametrize(("case", "status"), [
    ("wrong bearer", 403), ("no credentials", 401), ("inactive", 403), ("no secret", 403),
    ("unknown webhook", 404), ("not JSON", 400), ("not an event", 400),
])
def test_refusals_are_the_views_and_store_nothing(hook, to_django, case, status):
    data, auth, path = dlr("m-1"), {}, PATH
    if case == "wrong bearer":
        auth = {"secret": "forged-bearer"}
    elif case == "no credentials":
        auth = {"secret": None, "key": None}
    elif case == "inactive":
        Webhook.objects.filter(pk=hook.pk).update(status=Webhook.Status.INACTIVE)
    elif case == "no secret":
        Webhook.objects.filter(pk=hook.pk).update(secret="")
    elif case == "unknown webhook":
        path = "/webhooks/bics/nope/"
    elif case == "not JSON":
        data = b"<xml/>"
    elif case == "not an event":
        data = {"hello": "world"}
    assert post(data, path=path, **auth)[0] == status
    assert to_django == [path]
    assert not WebhookEvent.objects.exists()


def test_a_forged_bearer_is_logged_once_by_the_view_without_body_or_secret(hook, caplog):
    with caplog.at_level(logging.WARNING, logger="messaging.webhooks"):
        assert post(dlr(mobile="32470999888"), secret="forged-bearer-value")[0] == 403
    assert caplog.text.count("webhook refused: authorization mismatch") == 1
    assert "32470999888" not in caplog.text and "forged-bearer-value" not in caplog.text and SECRET not in caplog.text


def test_handshake_customised_get_and_form_webhooks_are_served_by_django(hook, to_django):
    body = {"validation_key": TOKEN, "challenge": "a234qwe"}
    status, content = call("POST", f"{PATH}?token={TOKEN}", body, HTTP_AUTHORIZATION=f"Bearer {SECRET}")
    assert status == 200 and json.loads(content) == {"challenge": "a234qwe"}
    hook.refresh_from_db()
    assert hook.verified_at is not None
    query = "message_id=m-7&mobile_number=32470000007&message_status=DELIVRD"
    assert call("GET", f"{PATH}?{query}", HTTP_AUTHORIZATION=f"Bearer {SECRET}")[0] == 200
    form = "message_id=m-8&mobile_number=32470000008&message_status=DELIVRD"
    assert call("POST", PATH, form, content_type="application/x-www-form-urlencoded",
                HTTP_AUTHORIZATION=f"Bearer {SECRET}")[0] == 200
    assert to_django == [PATH] * 3
    assert sorted(WebhookEvent.objects.values_list("method", "payload__id")) == [("GET", "m-7"), ("POST", "m-8")]


def test_a_disallowed_host_is_refused_by_django(hook, to_django):
    body = json.dumps(dlr("m-1")).encode()
    assert call("POST", PATH, body, HTTP_HOST="evil.example", **headers_for(body))[0] == 400
    assert to_django == [PATH] and not WebhookEvent.objects.exists()


def test_the_host_decision_follows_a_change_of_allowed_hosts(hook, to_django, settings):
    """The lean path remembers its decision per Host header: a changed ALLOWED_HOSTS applies
    at once, both ways."""
    first, second = (json.dumps(dlr(f"m-{i}")).encode() for i in (1, 2))
    assert call("POST", PATH, first, HTTP_HOST="bics.example", **headers_for(first))[0] == 400
    settings.ALLOWED_HOSTS = ["bics.example"]
    assert call("POST", PATH, first, HTTP_HOST="bics.example", **headers_for(first))[0] == 200
    assert to_django == [PATH] and WebhookEvent.objects.count() == 1  # the second was the lean path's
    settings.ALLOWED_HOSTS = ["other.example"]
    assert call("POST", PATH, second, HTTP_HOST="bics.example", **headers_for(second))[0] == 400
    assert to_django == [PATH, PATH] and WebhookEvent.objects.count() == 1


def test_an_error_in_the_lean_path_leaves_the_request_to_the_view(hook, to_django, monkeypatch, caplog):
    def broken(key, **kwargs):
        raise RuntimeError("cache unavailable")

    monkeypatch.setattr(receiver_wsgi, "find_webhook", broken)
    with caplog.at_level(logging.WARNING, logger="messaging.webhooks"):
        assert post(dlr("m-1"))[0] == 200
    assert to_django == [PATH] and WebhookEvent.objects.count() == 1
    assert "webhook lean path failed (RuntimeError)" in caplog.text


def test_database_connections_are_checked_before_and_after_as_django_does(hook, monkeypatch):
    checks: list[str] = []
    monkeypatch.setattr(receiver_wsgi, "close_old_connections", lambda conn: checks.append(conn.alias))
    assert post(dlr("m-1"))[0] == 200
    assert checks == ["default", "default"]


def test_an_event_stored_by_the_lean_path_is_applied_once_by_the_drain(hook):
    message = Message.objects.create(channel="sms", number="+32470000001", status="submitted", bics_message_id="m-1")
    assert post(dlr("m-1"))[0] == 200
    assert post(dlr("m-1"))[0] == 200
    ingest.apply_pending_events()
    message.refresh_from_db()
    assert message.status == "delivered"
    assert list(DeliveryReport.objects.filter(message=message).values_list("applied", flat=True)) == [True]
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}


def test_a_duplicate_append_keeps_the_callers_transaction_usable(hook):
    event = parse_body(json.dumps(dlr("m-1")).encode())
    with transaction.atomic():
        assert append_event(webhook_id=hook.pk, event=event) is True
        assert append_event(webhook_id=hook.pk, event=event) is False
        assert WebhookEvent.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_the_receive_and_apply_paths_on_postgresql():
    """The lean path, the append (``ON CONFLICT``, jsonb) and the drain in sets on PostgreSQL."""
    if on_postgresql():
        return
    run_on_postgresql(["tests/webhooks/test_lean_receiver.py", "tests/webhooks/test_ingest_sets.py",
                       "tests/webhooks/test_receiver.py", "tests/campaigns/test_dlr_poll_sets.py"], name="webhooks")


def test_a_body_over_djangos_limit_is_left_to_django_unread(hook, to_django, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps(dlr("m-1")).encode()
    assert len(body) > 100
    assert call("POST", PATH, body, **headers_for(body))[0] == 400  # Django's RequestDataTooBig
    assert to_django == [PATH] and not WebhookEvent.objects.exists()


def test_plain_http_when_https_is_required_is_left_to_django_and_https_is_served(hook, to_django, settings):
    """(Django's SecurityMiddleware read SECURE_SSL_REDIRECT when the application was built,
    so here it serves the plain request; in production it redirects it.)"""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    body = json.dumps(dlr("m-1")).encode()
    call("POST", PATH, body, **headers_for(body))
    assert to_django == [PATH]
    body = json.dumps(dlr("m-2")).encode()
    assert call("POST", PATH, body, HTTP_X_FORWARDED_PROTO="https, http", **headers_for(body))[0] == 200
    assert to_django == [PATH]
    assert sorted(WebhookEvent.objects.values_list("payload__id", flat=True)) == ["m-1", "m-2"]


def test_a_disallowed_forwarded_host_is_refused_by_django(hook, to_django, settings):
    settings.USE_X_FORWARDED_HOST = True
    body = json.dumps(dlr("m-1")).encode()
    assert call("POST", PATH, body, HTTP_X_FORWARDED_HOST="evil.example", **headers_for(body))[0] == 400
    assert to_django == [PATH] and not WebhookEvent.objects.exists()
    assert call("POST", PATH, body, HTTP_X_FORWARDED_HOST="testserver", **headers_for(body))[0] == 200
    assert to_django == [PATH] and WebhookEvent.objects.count() == 1


def test_a_body_that_is_not_utf8_json_is_left_to_django(hook, to_django):
    body = json.dumps(dlr("m-1")).encode("utf-16")
    assert call("POST", PATH, body, **headers_for(body))[0] == 200  # JSON may be UTF-16: the view reads it
    assert to_django == [PATH] and WebhookEvent.objects.get().payload["id"] == "m-1"
