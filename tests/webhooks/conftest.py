"""Builders for webhook tests: a webhook with a secret, and signed raw-body posts."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from bics.webhooks import sign
from config.wsgi import application
from messaging.webhooks.models import Webhook

SECRET = "s3cret-bearer-value"
TOKEN = "verify-9012"
BICS_ID = "77"

# Campaign builders live in tests/campaigns/conftest.py; reuse them here.
from tests.campaigns.conftest import make_campaign, make_contacts, make_template, owner, sandbox, sender  # noqa: E402,F401


@pytest.fixture
def hook(db):
    return Webhook.objects.create(name="Back-office", uri="http://127.0.0.1:8000/webhooks/bics/ourhook/",
                                  secret=SECRET, token=TOKEN, bics_id=BICS_ID, slug="ourhook")


def body_of(data) -> bytes:
    return data if isinstance(data, bytes) else json.dumps(data).encode()


def headers_for(body: bytes, *, secret: str | None = SECRET, key: str | None = BICS_ID,
                signature: str | None = None) -> dict:
    headers = {}
    if secret is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    if signature is not None:
        headers["HTTP_SIGNATURE"] = signature
    elif key is not None:
        headers["HTTP_SIGNATURE"] = sign(body, key)
    return headers


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """POST a raw body to our receiver the way BICS does; on-commit work (the task) runs."""

    def post(data, *, path_key="ourhook", query="", **auth):
        body = body_of(data)
        with django_capture_on_commit_callbacks(execute=True):
            return client.generic("POST", f"/webhooks/bics/{path_key}/{query}", body,
                                  content_type="application/json", **headers_for(body, **auth))

    return post


def dlr(message_id="m-1", status="DELIVRD", *, cid="", mobile="32470000001", envelope=True, **extra):
    payload = {"id": message_id, "mobile": mobile, "status": status, "cid": cid, "custom": cid,
               "deliv_time": "2026-01-02 10:00:00", "submit_time": "2026-01-02 09:59:00", **extra}
    return {"event": "sms:message:status", "payload": payload} if envelope else payload


@pytest.fixture(autouse=True)
def _no_webhook_cache(settings):
    """Tests change webhooks between requests; the receiver's short cache would hide that."""
    from messaging.webhooks.base import forget_webhooks

    settings.BICS_WEBHOOK_CACHE_SECONDS = 0
    forget_webhooks()
    yield
    forget_webhooks()


# ---------------------------------------------------------------- the project's WSGI application, as a server calls it
PATH = "/webhooks/bics/ourhook/"


def call(method: str, path: str, data=b"", *, content_type="application/json", **headers) -> tuple[int, bytes]:
    body = data if isinstance(data, bytes | str) else json.dumps(data).encode()
    environ = RequestFactory().generic(method, path, body, content_type=content_type, **headers).environ
    answer: dict = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])

    chunks = application(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answer["status"], content


def post(data, *, path=PATH, **auth) -> tuple[int, bytes]:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return call("POST", path, body, **headers_for(body, **auth))
