"""voice.py: payload mapping and results."""

from __future__ import annotations

import pytest

from bics import voice
from bics.client import BicsClient
from bics.errors import BicsOutcomeUnknown

from .conftest import Reply


@pytest.fixture
def client(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, "t0ken-voice-123456", sleep=no_sleep, timeout=(1, 0.3)) as c:
        yield c


def test_click2call_maps_from_and_record(client, fake_bics):
    fake_bics.queue(Reply(200, {"callId": "5ab4", "message": "call initiated successfully",
                                "status": 200}))
    result = voice.click2call(client, bridge="+3220000000", from_="+32470000001",
                              to="+32470000002", record=True, attempts=2, duration=5)
    assert fake_bics.requests[0].json() == {"bridge": "3220000000", "from": "32470000001",
                                            "to": "32470000002", "record": "1", "attempts": 2,
                                            "duration": "5"}
    assert result.call_id == "5ab4"


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
    fake_bics.queue(Reply(delay=1.0))
    with pytest.raises(BicsOutcomeUnknown):
        voice.create_call(client, bridge="+3220000000", to="+32470000001", flow_id="12")
    assert len(fake_bics.requests) == 1


def test_call_status_returns_a_list(client, fake_bics):
    fake_bics.queue(Reply(200, {"data": [{"id": "c1", "mobile": "32470000001",
                                          "status": "ANSWER"}], "message": "OK", "status": 200}))
    statuses = voice.call_status(client, id="c1")
    assert statuses[0].status == "ANSWER" and statuses[0].mobile == "+32470000001"
    assert "ANSWER" in voice.CALL_STATUSES
