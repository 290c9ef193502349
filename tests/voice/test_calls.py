"""Single calls against the fake BICS voice API: every variant, TTS, Click2Call, status."""

import pytest

from voice.models import Call, CallStatus, RequestState, SoundFile
from voice.services.calls import (
    CallNotSendable,
    call_create,
    call_payload,
    call_reconcile,
    call_refresh_status,
    call_send,
    call_status_lookup,
)

pytestmark = pytest.mark.django_db
BRIDGE, TO = "+3225551000", "+32470111222"


def sent(voice_bics, route):
    return [body for name, body in voice_bics.requests if name == route]


def test_call_with_ivr_flow_id(voice_bics):
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="77",
                                 name="obd_api_call", interval=5))
    assert call.state == RequestState.QUEUED
    assert call.api_message == "Calls queued successfully"
    assert call.call_id
    (body,) = sent(voice_bics, "voice.calls.create")
    assert body["flow_id"] == "77" and body["to"] == "32470111222" and body["interval"] == 5
    assert body["bridge"] == "3225551000" and body["cid"] == str(call.custom_id)


def test_call_with_flow_id_and_variables(voice_bics):
    call = call_send(call_create(kind=Call.Kind.FLOW_VARIABLES, bridge=BRIDGE, to=TO, flow_id="77",
                                 variables={"Name": "Ann", "otp": "1234"}))
    assert call.state == RequestState.QUEUED
    (body,) = sent(voice_bics, "voice.calls.create")
    assert body["Name"] == "Ann" and body["otp"] == "1234"


def test_call_with_audio_file(voice_bics):
    call = call_send(call_create(kind=Call.Kind.AUDIO_FILE, bridge=BRIDGE, to=TO,
                                 audio_url="https://example.org/hello.mp3"))
    assert call.state == RequestState.QUEUED
    (body,) = sent(voice_bics, "voice.calls.create")
    assert body["audio"] == "https://example.org/hello.mp3" and "flow_id" not in body


def test_call_with_audio_id(voice_bics):
    sound = SoundFile.objects.create(name="Hello", url="https://example.org/a.mp3", bics_id="981")
    call = call_send(call_create(kind=Call.Kind.AUDIO_ID, bridge=BRIDGE, to=TO, sound_file=sound))
    assert call.state == RequestState.QUEUED
    assert sent(voice_bics, "voice.calls.create")[0]["audio_id"] == "981"


def test_text_to_speech_call_sends_voice_id_and_repetitions(voice_bics):
    call = call_send(call_create(kind=Call.Kind.TTS, bridge=BRIDGE, to=TO, voice_id="Hans",
                                 tts_text='Hallo <break time="1s"/> Welt', tts_options={"iteration": 2}))
    assert call.state == RequestState.QUEUED
    (body,) = sent(voice_bics, "voice.tts.create")
    assert body["options"] == {"iteration": 2, "voice_id": "Hans"}
    assert body["text"].startswith("Hallo")


def test_click_to_call(voice_bics):
    call = call_send(call_create(kind=Call.Kind.CLICK2CALL, bridge=BRIDGE, from_number="+32470999888",
                                 to="42", record=True, attempts=1, duration_limit="5", mid="m-1"))
    assert call.state == RequestState.QUEUED and call.call_id
    assert call.api_message == "call initiated successfully"
    (body,) = sent(voice_bics, "voice.click2call.create")
    assert body == {"bridge": "3225551000", "from": "32470999888", "to": "42", "record": "1",
                    "attempts": 1, "mid": "m-1", "duration": "5"}


def test_click_to_call_refuses_more_than_two_attempts(voice_bics):
    with pytest.raises(CallNotSendable, match="(?i)at most 2 attempts"):
        call_create(kind=Call.Kind.CLICK2CALL, bridge=BRIDGE, from_number="+32470999888", to="42", attempts=3)


@pytest.mark.parametrize("interval", [0, 5, 15, 30, 45, 60])
def test_retry_interval_enum_is_accepted(voice_bics, interval):
    call = call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1", interval=interval)
    assert "interval" not in call_payload(call) if interval == 0 else call_payload(call)["interval"] == interval


def test_retry_interval_outside_enum_is_refused():
    with pytest.raises(CallNotSendable, match="(?i)retry interval"):
        call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1", interval=7)


def test_a_call_is_sent_once(voice_bics):
    call = call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1")
    call_send(call)
    call_send(Call.objects.get(pk=call.pk))
    assert voice_bics.calls_to()["32470111222"] == 1


def test_refused_call_is_failed_with_the_reason(voice_bics):
    voice_bics.refuse_next["voice.calls.create"] = 422
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1"))
    assert call.state == RequestState.FAILED and "refused" in call.error


def test_lost_answer_is_unknown_then_reconciled_without_resending(voice_bics):
    voice_bics.lose_next.add("voice.calls.create")
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1"))
    assert call.state == RequestState.UNKNOWN
    call = call_reconcile(call)
    assert call.state == RequestState.QUEUED and call.status == CallStatus.ANSWER
    assert voice_bics.calls_to()["32470111222"] == 1


def test_unknown_call_never_placed_becomes_sendable_again(voice_bics):
    call = call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1")
    Call.objects.filter(pk=call.pk).update(state=RequestState.UNKNOWN)
    call = call_reconcile(Call.objects.get(pk=call.pk))
    assert call.state == RequestState.DRAFT
    assert call_send(call).state == RequestState.QUEUED
    assert voice_bics.calls_to()["32470111222"] == 1


def test_status_lookup_by_call_id_custom_id_date_and_number(voice_bics):
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1"))
    assert call_status_lookup(id=call.call_id)[0]["id"] == call.call_id
    assert call_status_lookup(cid=str(call.custom_id))[0]["id"] == call.call_id
    assert call_status_lookup(mobile=TO)[0]["mobile"] == "32470111222"
    assert len(call_status_lookup(date=voice_bics.calls[0]["start_at"][:10])) == 1
    (query,) = [q for n, q in voice_bics.requests if n == "voice.calls.status" and "mobile" in q]
    assert query == {"mobile": "32470111222"}


def test_refresh_status_stores_status_and_duration(voice_bics):
    call = call_refresh_status(call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1")))
    assert call.status == CallStatus.ANSWER and call.duration == 12 and call.started_at
