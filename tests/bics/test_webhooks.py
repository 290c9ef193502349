"""Webhook helpers: signature, bearer secret, handshake, event parsing; CRUD mapping."""

from __future__ import annotations

import hashlib
import hmac
import json

from bics import webhooks
from bics.client import BicsClient

from .conftest import Reply

BODY = b'{"event":"sms:message:status","payload":{"id":"g:1","status":"DELIVRD"}}'


def test_sign_is_hmac_sha256_hex_of_the_raw_body():
    expected = hmac.new(b"wh-1", BODY, hashlib.sha256).hexdigest()
    assert webhooks.sign(BODY, "wh-1") == expected


def test_verify_signature():
    sig = webhooks.sign(BODY, "wh-1")
    assert webhooks.verify_signature(BODY, sig, "wh-1")
    assert webhooks.verify_signature(BODY, f"sha256={sig.upper()}", "wh-1")
    assert not webhooks.verify_signature(BODY + b" ", sig, "wh-1")
    assert not webhooks.verify_signature(BODY, sig, "wh-2")
    assert not webhooks.verify_signature(BODY, None, "wh-1")
    assert not webhooks.verify_signature(BODY, sig, "")


def test_verify_bearer():
    assert webhooks.verify_bearer("Bearer s3cret", "s3cret")
    assert webhooks.verify_bearer("bearer s3cret ", "s3cret")
    assert not webhooks.verify_bearer("Bearer nope", "s3cret")
    assert not webhooks.verify_bearer("Basic s3cret", "s3cret")
    assert not webhooks.verify_bearer(None, "s3cret")


def test_handshake_response():
    body = {"validation_key": "9012XX", "challenge": "a234qwe"}
    assert webhooks.handshake_response("9012XX", body, "9012XX") == (200, {"challenge": "a234qwe"})
    assert webhooks.handshake_response(None, json.dumps(body).encode(), "9012XX") == (
        200, {"challenge": "a234qwe"})
    status, _ = webhooks.handshake_response("wrong", body, "9012XX")
    assert status == 403
    assert webhooks.handshake_response(None, b"not json", "9012XX")[0] == 403


def test_parse_event_shapes():
    env = webhooks.parse_event(BODY)
    assert (env.event, env.payload["status"]) == ("sms:message:status", "DELIVRD")
    dlr = webhooks.parse_event({"id": "b:1", "mobile": "918921269000", "status": "DELIVRD",
                                "cid": "c1"})
    assert dlr.event == "sms:dlr"
    visit = webhooks.parse_event({"id": "x", "link_id": 246, "mobile": "9189"})
    assert visit.event == "smartlink:visit"
    try:
        webhooks.parse_event({"hello": 1})
    except ValueError:
        pass
    else:  # pragma: no cover
        raise AssertionError("unrecognised bodies must be refused")


def test_create_webhook_maps_fields_and_hides_the_secret(fake_bics, no_sleep):
    fake_bics.queue(Reply(200, {"code": 200, "data": {"id": 5, "name": "dlr", "uri": "https://x.example/h",
                                                      "secret": "s3cret", "status": 1},
                                "message": "Created Successfully", "status": "OK"}))
    with BicsClient(fake_bics.url, "t0ken-abcdef", sleep=no_sleep) as client:
        hook = webhooks.create_webhook(client, name="dlr", uri="https://x.example/h",
                                       secret="s3cret", status=True, token="9012XX")
    sent = fake_bics.requests[0].json()
    assert sent == {"name": "dlr", "uri": "https://x.example/h", "secret": "s3cret",
                    "status": "1", "token": "9012XX"}
    assert hook.id == "5" and hook.status == 1
    assert "s3cret" not in repr(hook)


def test_create_subscription_defaults_identity_all(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, "t0ken-abcdef", sleep=no_sleep) as client:
        sub = webhooks.create_subscription(client, event="sms:message:status", webhook_id="5")
    assert fake_bics.requests[0].json() == {"event": "sms:message:status", "identity": "all",
                                            "webhook_id": "5"}
    assert sub.event == "sms:message:status"
