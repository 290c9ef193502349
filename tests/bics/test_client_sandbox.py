"""The client and product modules over the real sandbox (bics/sandbox, a real HTTP server)."""

from __future__ import annotations

import importlib
import inspect
import json
import uuid

import pytest
import requests

from bics import account, contacts, sms, verify, voice, webhooks
from bics.client import BicsClient
from bics.errors import BicsError, BicsOutcomeUnknown

from .conftest import FakeBics, Reply
from .test_client_products import CASES, kwargs_for

pytestmark = pytest.mark.sandbox


@pytest.fixture
def sbx(sandbox_server):
    """(control, client): a reset sandbox and a client on a fresh account of its own."""
    root = sandbox_server.url.split("/api/v2/")[0]
    requests.post(root + "/_sandbox/reset", timeout=5).raise_for_status()
    token = f"acct-{uuid.uuid4().hex}"

    class Control:
        def post(self, path: str, body: dict | None = None) -> dict:
            resp = requests.post(f"{root}/_sandbox/{path}", json=body or {},
                                 params={"token": token}, timeout=15)
            resp.raise_for_status()
            return resp.json()

        def get(self, path: str) -> dict:
            resp = requests.get(f"{root}/_sandbox/{path}", params={"token": token}, timeout=5)
            resp.raise_for_status()
            return resp.json()

    client = BicsClient(sandbox_server.url, token, retries=1, backoff=0.01)
    try:
        yield Control(), client
    finally:
        client.close()
        requests.post(root + "/_sandbox/reset", timeout=5)


@pytest.mark.parametrize(("module_name", "fname", "route_name"), CASES)
def test_every_function_gets_a_documented_answer(sbx, module_name, fname, route_name):
    """Success, or a documented refusal (404 unknown id, 422 invalid) — never a wrong path,
    a wrong method, a server error or a transport error."""
    _control, client = sbx
    func = getattr(importlib.import_module(f"bics.{module_name}"), fname)
    try:
        result = func(client, **kwargs_for(module_name, func))
        if inspect.isgenerator(result):
            list(result)
    except BicsError as exc:
        assert exc.http_status in (404, 422), f"{route_name}: {exc!r}"


def test_sender_round_trip(sbx):
    _control, client = sbx
    created = sms.create_sender(client, sender_id="ACMEBE", country_code="BE", service="ENT")
    assert created.id and created.name == "ACMEBE"
    assert sms.get_sender(client, id=created.id).name == "ACMEBE"
    sms.update_sender(client, id=created.id, service="MKT")
    assert [s.id for s in sms.list_senders(client, name="ACMEBE")] == [created.id]
    sms.delete_sender(client, id=created.id)
    with pytest.raises(BicsError) as info:
        sms.get_sender(client, id=created.id)
    assert info.value.http_status == 404


def test_send_then_reconcile_by_cid(sbx):
    control, client = sbx
    result = sms.send_message(client, to=["+32470000001", "+32470000002"], message="Hi",
                              sender="ACME", service="ENT", custom="batch-7")
    assert result.group_id
    control.post("tick", {"seconds": 30})
    dlrs = list(sms.pull_dlr(client, cid="batch-7"))
    assert sorted(d.mobile for d in dlrs) == ["+32470000001", "+32470000002"]
    # matched by custom and number: the item's cid is BICS's, not ours (the DLR sample)
    assert all(d.custom == "batch-7" and d.cid != "batch-7" and d.status for d in dlrs)


def test_a_send_that_timed_out_is_reconciled_not_resent(sbx, sandbox_server):
    control, client = sbx
    control.post("config", {"faults": [{"kind": "timeout", "routes": ["sms.messages.send"],
                                        "seconds": 1.5, "count": 1}]})
    slow = BicsClient(sandbox_server.url, client.token, timeout=(2, 0.3), retries=3)
    with pytest.raises(BicsOutcomeUnknown):
        sms.send_message(slow, to=["+32470000009"], message="Hi", sender="ACME",
                         service="ENT", custom="batch-9")
    slow.close()
    sent = control.get("sent")
    assert sent["count"] <= 1 and not sent["duplicates"]
    if sent["count"] == 1:  # it had reached BICS: the DLR pull finds it by cid
        control.post("tick", {"seconds": 30})
        assert [d.mobile for d in sms.pull_dlr(client, cid="batch-9")] == ["+32470000009"]


def test_every_page_is_walked(sbx):
    _control, client = sbx
    for i in range(40):
        contacts.create_tag(client, name=f"tag-{i:02d}")
    names = [t.name for t in contacts.list_tags(client)]
    assert sorted(names) == [f"tag-{i:02d}" for i in range(40)]


def test_contact_phone_keeps_the_plus(sbx):
    _control, client = sbx
    contact = contacts.create_contact(client, identity="ann-1", phone="+32470000001",
                                      first_name="Ann")
    fetched = contacts.get_contact(client, id=contact.id)
    assert fetched.phone == "+32470000001"


def test_otp_flow(sbx):
    control, client = sbx
    otp = verify.send_otp(client, channels=[{"channel": "sms"}], to="+32470000001")
    assert otp.id and otp.status == "sent"
    code = str(control.get(f"otp/{otp.id}")["code"])
    wrong = "000000" if code != "000000" else "111111"
    assert verify.verify_otp(client, id=otp.id, token=wrong).status == "invalid"
    assert verify.verify_otp(client, id=otp.id, token=code).ok
    again = verify.verify_otp(client, id=otp.id, token=code)
    assert not again.ok and again.reason


def test_token_generate_and_adopt(sbx):
    _control, client = sbx
    token = account.generate_token(client, adopt=True)
    assert token.access_token and client.token == token.access_token
    assert account.me(client) is not None


def test_every_outgoing_call_variant_is_accepted(sbx):
    """The four variants of Create Outgoing Call (its Method table), validated by the same shapes."""
    _control, client = sbx
    sound = voice.create_sound_file(client, audio=b"ID3....", filename="hello.mp3")
    common = {"bridge": "+3220000000", "to": "+32470000001"}
    results = [
        voice.create_call(client, **common, flow_id="191"),
        voice.create_call(client, **common, flow_id="191", variables={"Name": "Ann"}),
        voice.create_call(client, **common, audio="https://cdn.example.com/hello.mp3"),
        voice.create_call(client, **common, audio_id=sound.id, cid="call-77"),
    ]
    assert all(r.message == "Calls queued successfully" and r.ids for r in results)
    with pytest.raises(BicsError) as info:  # the sandbox refuses what the client refuses
        client.call("voice.calls.create", json={**common, "flow_id": "1", "audio_id": "7"})
    assert info.value.http_status is None and "audio_id" in info.value.field_errors
    loose = BicsClient(client.base_url, client.token, validate=False)
    try:
        with pytest.raises(BicsError) as info:
            loose.call("voice.calls.create", json={"bridge": "3220000000",
                                                   "to": "32470000001"})
        assert info.value.http_status == 422
    finally:
        loose.close()


def test_click2call_with_a_flow_id(sbx):
    _control, client = sbx
    result = voice.click2call(client, bridge="+3220000000", from_="+32470000001", to="42",
                              record=False)
    assert result.call_id and result.message == "call initiated successfully"


def test_call_status_finds_a_call_by_our_cid(sbx):
    """Our assumption: Call Status ``cid`` ("Your custom ID") echoes the ``cid`` we sent."""
    _control, client = sbx
    voice.create_call(client, bridge="+3220000000", to="+32470000001", flow_id="191",
                      cid="call-cid-1")
    voice.create_call(client, bridge="+3220000000", to="+32470000002",
                      audio="https://cdn.example.com/a.mp3", cid="call-cid-2")
    assert [s.mobile for s in voice.call_status(client, cid="call-cid-1")] == ["+32470000001"]
    assert [s.cid for s in voice.call_status(client, cid="call-cid-2")] == ["call-cid-2"]


def test_click2call_status_reports_the_from_number(sbx):
    _control, client = sbx
    result = voice.click2call(client, bridge="+3220000000", from_="+32470000001", to="42")
    assert [s.mobile for s in voice.call_status(client, id=result.call_id)] == ["+32470000001"]


def test_dlr_callback_signature_matches_our_helper(sbx):
    control, client = sbx
    receiver = FakeBics()
    receiver.prefix = "/"
    receiver.routes[("POST", "hook")] = Reply(200, {"ok": True})
    receiver.start()
    try:
        hook = webhooks.create_webhook(client, name="dlr", uri=f"http://127.0.0.1:{receiver.port}/hook",
                                       secret="s3cret-value", status=True)
        webhooks.create_subscription(client, event="sms:message:status", webhook_id=hook.id)
        sms.send_message(client, to=["+32470000001"], message="Hi", sender="ACME",
                         service="ENT", custom="batch-w")
        control.post("tick", {"seconds": 30})
        control.post("wait", {})
        posts = [r for r in receiver.requests if r.method == "POST" and r.path == "hook"
                 and "signature" in r.headers]
        assert posts, "the sandbox sent no signed callback"
        seen = posts[-1]
        assert webhooks.verify_signature(seen.body, seen.headers["signature"], str(hook.id))
        assert webhooks.verify_bearer(seen.headers.get("authorization"), "s3cret-value")
        event = webhooks.parse_event(seen.body)
        assert event.event in ("sms:message:status", "sms:dlr")
        assert json.loads(seen.body)
    finally:
        receiver.stop()
