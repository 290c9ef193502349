"""voice.py: payload mapping and results."""

from __future__ import annotations

import pytest

from bics import voice
from bics.client import BicsClient
from bics.errors import BicsOutcomeUnknown, BicsValidationError

from .conftest import Reply


@pytest.fixture
def client(fake_bics, no_sleep):
    # A read timeout a busy machine cannot reach by accident (0.3 s did, under load); the
    # timeout test below waits for it on purpose with a reply three times as slow.
    with BicsClient(fake_bics.url, "t0ken-voice-123456", sleep=no_sleep, timeout=(2, 1.0)) as c:
        yield c


def test_click2call_maps_from_and_record(client, fake_bics):
    fake_bics.queue(Reply(200, {"callId": "5ab4", "message": "call initiated successfully",
                                "status": 200}))
    result = voice.click2call(client, bridge="+3220000000", from_="+32470000001",
                              to="42", record=True, attempts=2, duration=5)
    assert fake_bics.requests[0].json() == {"bridge": "3220000000", "from": "32470000001",
                                            "to": "42", "record": "1", "attempts": 2,
                                            "duration": "5"}
    assert result.call_id == "5ab4"


def test_click2call_to_is_a_flow_id_not_a_number(client, fake_bics):
    """`to` is the IVR flow (Click2Call, to): a flow id goes as given, never in number notation."""
    voice.click2call(client, bridge="+3220000000", from_="+32470000001", to=42)
    voice.click2call(client, bridge="+3220000000", from_="+32470000001", to="191",
                     variables={"Name": "Ann", "otp": "1234"})
    first, second = (r.json() for r in fake_bics.requests)
    assert (first["to"], first["from"]) == (42, "32470000001")
    assert second == {"bridge": "3220000000", "from": "32470000001", "to": "191",
                      "Name": "Ann", "otp": "1234"}


def test_click2call_mobile_number_variant_keeps_the_wire_notation(client, fake_bics):
    """A `to` written E.164 with '+' (the "Click2Call with mobile number" variant) goes as digits,
    like every number of the route; a flow id is never touched."""
    voice.click2call(client, bridge="+3220000000", from_="+32470000001", to="+32470000002")
    assert fake_bics.requests[0].json()["to"] == "32470000002"
    with pytest.raises(ValueError, match="from"):
        voice.click2call(client, bridge="+3220000000", from_="+32470000001", to="42",
                         variables={"from": "x"})
    with pytest.raises(BicsValidationError) as info:
        voice.click2call(client, bridge="+3220000000", from_="+32470000001", to=" ")
    assert list(info.value.field_errors) == ["to"]
    assert len(fake_bics.requests) == 1


# ------------------------------------------------------------------ create_call variants
BASE = {"bridge": "3220000000", "to": "32470000001"}


@pytest.mark.parametrize(("kwargs", "expected"), [
    pytest.param({"flow_id": "191"}, {**BASE, "flow_id": "191"}, id="flow"),
    pytest.param({"flow_id": 191, "variables": {"Name": "Ann", "otp": "1234"}},
                 {**BASE, "flow_id": 191, "Name": "Ann", "otp": "1234"}, id="flow+variables"),
    pytest.param({"audio": "https://cdn.example.com/hello.mp3"},
                 {**BASE, "audio": "https://cdn.example.com/hello.mp3"}, id="audio-url"),
    pytest.param({"audio_id": "77"}, {**BASE, "audio_id": "77"}, id="audio-id"),
    pytest.param({"audio_id": 77, "cid": "call-0001", "name": "camp", "interval": 15,
                  "webhook_id": "w1"},
                 {**BASE, "audio_id": 77, "cid": "call-0001", "name": "camp", "interval": 15,
                  "webhook_id": "w1"}, id="audio-id+cid+options"),
])
def test_create_call_bodies(client, fake_bics, kwargs, expected):
    fake_bics.queue(Reply(200, {"data": [{"id": "oc1", "to": "32470000001",
                                          "status": "queued"}],
                                "message": "Calls queued successfully", "status": "OK"}))
    result = voice.create_call(client, bridge="+3220000000", to="+32470000001", **kwargs)
    seen = fake_bics.requests[0]
    assert (seen.method, seen.path) == ("POST", "voice/calls")
    assert seen.json() == expected
    assert result.ids == ["oc1"]


@pytest.mark.parametrize(("kwargs", "match"), [
    pytest.param({}, "exactly one of flow_id, audio, audio_id$", id="none"),
    pytest.param({"flow_id": "1", "audio": "https://x.example/a.mp3"}, "got flow_id, audio",
                 id="flow+audio"),
    pytest.param({"audio": "https://x.example/a.mp3", "audio_id": "7"}, "got audio, audio_id",
                 id="audio+audio_id"),
    pytest.param({"audio_id": "7", "variables": {"otp": "1"}}, "variables need an IVR flow",
                 id="variables-without-flow"),
    pytest.param({"flow_id": "1", "name": "camp", "variables": {"to": "1", "name": "x"}},
                 "name, to",
                 id="variables-clash"),
])
def test_create_call_refuses_bad_combinations_before_sending(client, fake_bics, kwargs, match):
    with pytest.raises(ValueError, match=match):
        voice.create_call(client, bridge="+3220000000", to="+32470000001", **kwargs)
    assert fake_bics.requests == []


def test_create_call_audio_must_be_a_url(client, fake_bics):
    with pytest.raises(BicsValidationError) as info:
        voice.create_call(client, bridge="+3220000000", to="+32470000001", audio="hello.mp3")
    assert list(info.value.field_errors) == ["audio"]
    assert fake_bics.requests == []


def test_bulk_calls_result(client, fake_bics):
    fake_bics.queue(Reply(200, {"status": "OK", "code": 200,
                                "message": "2 numbers queued successfully.",
                                "group_id": "cb61", "total": 2, "data": []}))
    result = voice.create_bulk_calls(client, bridge="+3220000000", flow_id=191, recipients=[
        {"to": "+32470000001", "variables": {"otp": "1234"}}, {"to": "+32470000002"}])
    body = fake_bics.requests[0].json()
    assert [p["to"] for p in body["payload"]] == ["32470000001", "32470000002"]
    assert (result.group_id, result.total) == ("cb61", 2)


def test_tts_voice_id_goes_into_options(client, fake_bics):
    voice.create_tts_call(client, bridge="+3220000000", to="+32470000001", text="Hello",
                          voice_id="Amy")
    assert fake_bics.requests[0].json()["options"] == {"voice_id": "Amy"}


def test_call_creation_is_never_retried_after_a_timeout(client, fake_bics):
    fake_bics.queue(Reply(delay=3.0))
    with pytest.raises(BicsOutcomeUnknown):
        voice.create_call(client, bridge="+3220000000", to="+32470000001", flow_id="12")
    assert len(fake_bics.requests) == 1


def test_call_status_returns_a_list(client, fake_bics):
    fake_bics.queue(Reply(200, {"data": [{"id": "c1", "mobile": "32470000001",
                                          "status": "ANSWER"}], "message": "OK", "status": 200}))
    statuses = voice.call_status(client, id="c1")
    assert statuses[0].status == "ANSWER" and statuses[0].mobile == "+32470000001"
    assert "ANSWER" in voice.CALL_STATUSES
