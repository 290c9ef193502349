"""Golden pairs from the documentation's own samples (read from the contract index).

Requests: each product function is called with the values of the documented request sample
(our stored forms: numbers with '+', dates as given) and the body that leaves must carry the
sample's keys, and its scalar values exactly, type included ("flash": 1, "max_units": 2). The
sample's ``{{placeholders}}`` are filled with our values and checked by key only; containers
the export collapsed are checked by kind. Responses: each documented response sample, served
as is (collapsed containers empty), is read by the product function.
"""

from __future__ import annotations

import pytest

from bics import account, contacts, sms, verify, viber, voice, webhooks, whatsapp
from bics.client import BicsClient
from bics.contract import operation

from .conftest import Reply

NUMBER, BRIDGE = "+917600000001", "+917000000001"
REQUESTS = {
    "sms.messages.send": lambda c: sms.send_message(
        c, to=[NUMBER], message="Your OTP is 123456", sender="SEN765", service="ENT",
        time="2024-03-10 14:06:10", type="A", flash=True, custom="12345", port="3908",
        max_units=2, webhook_id="w1", meta={"k": "v"}),
    "sms.senders.create": lambda c: sms.create_sender(c, sender_id="SEM1", country_code="IN",
                                                      service="ENT"),
    "sms.templates.create": lambda c: sms.create_template(c, name="test1", body="testing sms 1",
                                                          sender="ACME", type="T"),
    "sms.templates.update": lambda c: sms.update_template(c, id="1", type="T", body="temp12",
                                                          name="SENDER", is_english=True),
    "sms.unsubscribers.create": lambda c: sms.create_unsubscriber(c, receiver=NUMBER,
                                                                  type="tag", value="tag1"),
    "sms.blocked_templates.update": lambda c: sms.update_blocked_template(
        c, id="1", template_id="986458", status="1"),
    "sms.messages.send_template": lambda c: sms.send_template(
        c, to=NUMBER, alias="variable", data={"name": "A"}, meta={"k": "v"}),
    "whatsapp.templates.create": lambda c: whatsapp.create_template(
        c, name="text_template_msg_var", category="marketing", language="en", number=NUMBER,
        type="text", is_conversation=True, payload={"body": "Hi {{name}}"}),
    "whatsapp.messages.send_template": lambda c: whatsapp.send_template(
        c, to=NUMBER, alias="funny_video_2", data={"name": "A"}, meta={"k": "v"}),
    "whatsapp.unsubscribers.create": lambda c: whatsapp.create_unsubscriber(
        c, receiver=NUMBER, type="tag", value="tag1"),
    "viber.templates.create": lambda c: viber.create_template(
        c, name="transactional_text_msg", message={"text": "Hi"}, category="transactional"),
    "viber.unsubscribers.update": lambda c: viber.update_unsubscriber(
        c, id="1", receiver=NUMBER, type="tag", value=""),
    "voice.calls.create": lambda c: voice.create_call(
        c, bridge=BRIDGE, to=NUMBER, flow_id="42", name="obd_api_call", interval=5,
        webhook_id="w1"),
    "voice.click2call.create": lambda c: voice.click2call(
        c, bridge=BRIDGE, from_=NUMBER, to="42", record=True, attempts=2, mid="1234",
        webhook_id="w1", duration="5"),
    "voice.tts.create": lambda c: voice.create_tts_call(
        c, bridge=BRIDGE, to=NUMBER, text=operation("voice.tts.create")["request_sample"]["text"],
        voice_id="v1"),
    "voice.unsubscribers.create": lambda c: voice.create_unsubscriber(
        c, receiver=NUMBER, type="tag", value="tag1"),
    "account.credits.add": lambda c: account.add_credits(c, credits="2.34", username="reseller"),
    "contacts.contacts.create": lambda c: contacts.create_contact(
        c, identity="Fayek", phone="+6590296448", email="madhu@gmail.com", first_name="madhu",
        last_name="BS", company="", postal_code="547008", birth_date="1994-03-16",
        gender="female", attributes={"city": "x"}, tags=["a"]),
    "contacts.tags.create": lambda c: contacts.create_tag(c, name="premium 1"),
    "contacts.segments.update": lambda c: contacts.update_segment(
        c, id="1", name="segment1", positive_tags=["a"], negative_tags=["b"]),
    "webhooks.subscriptions.create": lambda c: webhooks.create_subscription(
        c, event="vmn:message:in", identity="all", webhook_id="w1"),
}
# Where the sample's scalar differs from what we send, and why.
SCALAR_DEPARTURES = {
    ("voice.click2call.create", "mid"): "sampled as the number 1234; typed string: we send '1234'",
}


def _kind(value):
    return {"{…}": dict, "[…]": list}.get(value) if isinstance(value, str) else None


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_the_request_matches_the_documented_sample(fake_bics, no_sleep, name):
    sample = operation(name)["request_sample"]
    if name == "sms.messages.send":  # its answer lists the recipients (any other shape is refused)
        fake_bics.queue(Reply(200, {"status": 200, "message": "OK", "data": [{"id": "m1", "mobile": NUMBER}]}))
    with BicsClient(fake_bics.url, "tok-golden", sleep=no_sleep) as client:
        REQUESTS[name](client)
    body = fake_bics.requests[-1].json()
    assert set(body) <= set(sample), f"keys the sample lacks: {set(body) - set(sample)}"
    for key, value in sample.items():
        if (name, key) in SCALAR_DEPARTURES or key not in body and value == "":
            continue
        assert key in body, f"{name}: the sample's {key!r} is not sent"
        if _kind(value):
            assert isinstance(body[key], _kind(value)), key
        elif isinstance(value, str) and ("{{" in value or "x" in value.lower()
                                         and value.lower().strip("0123456789x") == ""):
            continue  # a placeholder or a masked number: our value stands in
        else:
            assert body[key] == value and type(body[key]) is type(value), (key, body[key])


def _served(sample: dict) -> dict:
    return {k: ({} if v == "{…}" else [] if v == "[…]" else v) for k, v in sample.items()}


RESPONSES = {
    "sms.messages.send": (lambda c: sms.send_message(c, to=[NUMBER], message="Hi", sender="A",
                                                     service="ENT"),
                          lambda r, s: r.group_id == s["group_id"] and r.message == s["message"]),
    "voice.click2call.create": (lambda c: voice.click2call(c, bridge=BRIDGE, from_=NUMBER, to="42"),
                                lambda r, s: r.call_id == s["callId"]),
    "verify.otp.send": (lambda c: verify.send_otp(c, channels=[{"channel": "sms"}], to=NUMBER),
                        lambda r, s: r.id == s["id"] and r.ok and r.expire_at == s["expire_at"]),
    "verify.otp.verify": (lambda c: verify.verify_otp(c, id="i1", token="123456"),
                          lambda r, s: r.status == s["status"] and r.ok),
    "auth.token.generate": (lambda c: account.generate_token(c),
                            lambda r, s: r.access_token == s["access_token"]),
    "account.credits.add": (lambda c: account.add_credits(c, credits="1", username="u"),
                            lambda r, s: r == s["message"]),
    "contacts.segments.list": (lambda c: list(contacts.list_segments(c)),
                               lambda r, s: r == []),
    "whatsapp.messages.send_template": (
        lambda c: whatsapp.send_template(c, to=NUMBER, alias="a", data={}),
        lambda r, s: r.message == s["message"]),
}


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_the_documented_response_is_read(fake_bics, no_sleep, name):
    sample = operation(name)["response_sample"]
    call, check = RESPONSES[name]
    fake_bics.queue(Reply(200, _served(sample)))
    with BicsClient(fake_bics.url, "tok-golden", sleep=no_sleep) as client:
        result = call(client)
    assert check(result, sample), result
