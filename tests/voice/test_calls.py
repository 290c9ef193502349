"""Single calls against the BICS sandbox over HTTP: every variant, TTS, Click2Call, status."""

import pytest

from tests import sandbox_helpers as sb
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


def sent(sandbox, route):
    return sb.sent(sandbox, route)


def test_call_with_ivr_flow_id(bics_sandbox):
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="77",
                                 name="obd_api_call", interval=5))
    assert call.state == RequestState.QUEUED
    assert call.api_message == "Calls queued successfully"
    assert call.call_id
    (body,) = sent(bics_sandbox, "voice.calls.create")
    assert body["flow_id"] == "77" and body["to"] == "32470111222" and body["interval"] == 5
    assert body["bridge"] == "3225551000" and body["cid"] == str(call.custom_id)


def test_call_with_flow_id_and_variables(bics_sandbox):
    call = call_send(call_create(kind=Call.Kind.FLOW_VARIABLES, bridge=BRIDGE, to=TO, flow_id="77",
                                 variables={"Name": "Ann", "otp": "1234"}))
    assert call.state == RequestState.QUEUED
    (body,) = sent(bics_sandbox, "voice.calls.create")
    assert body["Name"] == "Ann" and body["otp"] == "1234"


def test_call_with_audio_file(bics_sandbox):
    call = call_send(call_create(kind=Call.Kind.AUDIO_FILE, bridge=BRIDGE, to=TO,
                                 audio_url="https://example.org/hello.mp3"))
    assert call.state == RequestState.QUEUED
    (body,) = sent(bics_sandbox, "voice.calls.create")
    assert body["audio"] == "https://example.org/hello.mp3" and "flow_id" not in body


def test_call_with_audio_id(bics_sandbox):
    sound = SoundFile.objects.create(name="Hello", url="https://example.org/a.mp3", bics_id="981")
    call = call_send(call_create(kind=Call.Kind.AUDIO_ID, bridge=BRIDGE, to=TO, sound_file=sound))
    assert call.state == RequestState.QUEUED
    assert sent(bics_sandbox, "voice.calls.create")[0]["audio_id"] == "981"


def test_text_to_speech_call_sends_voice_id_and_repetitions(bics_sandbox):
    call = call_send(call_create(kind=Call.Kind.TTS, bridge=BRIDGE, to=TO, voice_id="Hans",
                                 tts_text='Hallo <break time="1s"/> Welt', tts_options={"iteration": 2}))
    assert call.state == RequestState.QUEUED
    (body,) = sent(bics_sandbox, "voice.tts.create")
    assert body["options"] == {"iteration": 2, "voice_id": "Hans"}
    assert body["text"].startswith("Hallo")


def test_click_to_call(bics_sandbox):
    call = call_send(call_create(kind=Call.Kind.CLICK2CALL, bridge=BRIDGE, from_number="+32470999888",
                                 to="42", record=True, attempts=1, duration_limit="5", mid="m-1"))
    assert call.state == RequestState.QUEUED and call.call_id
    assert call.api_message == "call initiated successfully"
    (body,) = sent(bics_sandbox, "voice.click2call.create")
    assert body == {"bridge": "3225551000", "from": "32470999888", "to": "42", "record": "1",
                    "attempts": 1, "mid": "m-1", "duration": "5"}


def test_click_to_call_refuses_more_than_two_attempts(bics_sandbox):
    with pytest.raises(CallNotSendable, match="(?i)at most 2 attempts"):
        call_create(kind=Call.Kind.CLICK2CALL, bridge=BRIDGE, from_number="+32470999888", to="42", attempts=3)


@pytest.mark.parametrize("interval", [0, 5, 15, 30, 45, 60])
def test_retry_interval_enum_is_accepted(bics_sandbox, interval):
    call = call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1", interval=interval)
    assert "interval" not in call_payload(call) if interval == 0 else call_payload(call)["interval"] == interval


def test_retry_interval_outside_enum_is_refused():
    with pytest.raises(CallNotSendable, match="(?i)retry interval"):
        call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1", interval=7)


def test_a_call_is_sent_once(bics_sandbox):
    call = call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1")
    call_send(call)
    call_send(Call.objects.get(pk=call.pk))
    assert sb.calls_to(bics_sandbox)["32470111222"] == 1


def test_refused_call_is_failed_with_the_reason(bics_sandbox):
    sb.fault(bics_sandbox, kind="error", status=422, routes=["voice.calls.create"], count=1)
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1"))
    assert call.state == RequestState.FAILED and "HTTP 422" in call.error and "sandbox fault" in call.error


def test_lost_answer_is_unknown_then_reconciled_without_resending(bics_sandbox):
    sb.answered(bics_sandbox, TO)
    sb.fault(bics_sandbox, kind="drop", routes=["voice.calls.create"], count=1, after=True)
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1"))
    assert call.state == RequestState.UNKNOWN
    sb.tick(bics_sandbox)
    call = call_reconcile(call)
    assert call.state == RequestState.QUEUED and call.status == CallStatus.ANSWER
    assert sb.calls_to(bics_sandbox)["32470111222"] == 1


def test_unknown_call_never_placed_becomes_sendable_again(bics_sandbox):
    call = call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1")
    Call.objects.filter(pk=call.pk).update(state=RequestState.UNKNOWN)
    call = call_reconcile(Call.objects.get(pk=call.pk))
    assert call.state == RequestState.DRAFT
    assert call_send(call).state == RequestState.QUEUED
    assert sb.calls_to(bics_sandbox)["32470111222"] == 1


def test_status_lookup_by_call_id_custom_id_date_and_number(bics_sandbox, monkeypatch):
    # The sandbox records the last body per route, not a GET's query: a pass-through spy on
    # the client's connection pools (the request still goes to the sandbox) keeps the check on
    # the wire query.
    from urllib.parse import parse_qsl, urlsplit

    import urllib3

    queries, real_urlopen = [], urllib3.PoolManager.urlopen

    def spy(self, method, url, *args, **kwargs):
        if "/voice/" in url and "status" in urlsplit(url).path:
            queries.append(dict(parse_qsl(urlsplit(url).query)))
        return real_urlopen(self, method, url, *args, **kwargs)

    monkeypatch.setattr(urllib3.PoolManager, "urlopen", spy)
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1"))
    assert call_status_lookup(id=call.call_id)[0]["id"] == call.call_id
    assert call_status_lookup(cid=str(call.custom_id))[0]["id"] == call.call_id
    assert call_status_lookup(mobile=TO)[0]["mobile"] == "32470111222"
    (item,) = call_status_lookup(id=call.call_id)
    assert len(call_status_lookup(date=item["start_at"][:10])) == 1
    (query,) = [q for q in queries if "mobile" in q]
    assert query == {"mobile": "32470111222"}
    assert sb.sent(bics_sandbox, "voice.calls.status")  # and it reached the sandbox


def test_refresh_status_stores_status_and_duration(bics_sandbox):
    sb.answered(bics_sandbox, TO)
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=TO, flow_id="1"))
    sb.tick(bics_sandbox)
    (item,) = call_status_lookup(id=call.call_id)
    call = call_refresh_status(call)
    assert call.status == CallStatus.ANSWER and call.duration == int(item["duration"]) > 0 and call.started_at
