"""Sound files (URL check then create), report pulls with paging and pricing pulls, against
the BICS sandbox over HTTP."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests import sandbox_helpers as sb
from voice.models import Call, CallLog, CallRecording, RequestState, SoundFile, VoicePrice
from voice.services.calls import call_create, call_send
from voice.services.pricing import bulk_estimate, pricing_pull
from voice.services.reports import call_logs_pull, date_range, recording_fields, recordings_pull
from voice.services.sounds import SoundUrlError, sound_file_create, sound_url_check

pytestmark = pytest.mark.django_db
BRIDGE = "+3225551000"


def around_today() -> dict:
    today = timezone.localdate()
    return {"start": today - timedelta(days=1), "end": today + timedelta(days=1)}


def test_sound_url_must_answer_with_audio(audio_server):
    assert sound_url_check(f"{audio_server}/ok.mp3").content_type == "audio/mpeg"
    with pytest.raises(SoundUrlError, match="text/html"):
        sound_url_check(f"{audio_server}/page.html")
    with pytest.raises(SoundUrlError, match="404"):
        sound_url_check(f"{audio_server}/missing.mp3")
    with pytest.raises(SoundUrlError, match="http"):
        sound_url_check("ftp://example.org/a.mp3")


def test_sound_file_is_created_at_bics_with_the_audio(bics_sandbox, audio_server):
    sound = sound_file_create(name="Welcome", url=f"{audio_server}/hello.wav")
    assert sound.state == RequestState.QUEUED and sound.bics_id
    assert sound.content_type == "audio/wav" and sound.size > 0
    assert sb.request_counts(bics_sandbox)["voice.sound_files.create"] == 1
    assert sb.last_body(bics_sandbox, "voice.sound_files.create")["name"] == "Welcome"


def test_a_non_audio_url_is_neither_stored_nor_sent(bics_sandbox, audio_server):
    with pytest.raises(SoundUrlError):
        sound_file_create(name="Page", url=f"{audio_server}/page.html")
    assert not SoundFile.objects.exists()
    assert "voice.sound_files.create" not in sb.request_counts(bics_sandbox)


def test_call_logs_walk_every_page_and_upsert(bics_sandbox):
    sb.configure(bics_sandbox, page_size=2)
    for n in range(5):
        call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=f"+3247000000{n}", flow_id="1"))
    sb.tick(bics_sandbox, 600)  # the calls end
    assert call_logs_pull(start=date(2021, 4, 1), end=date(2021, 4, 12))["created"] == 0  # the range is sent
    span = around_today()
    assert call_logs_pull(**span) == {"created": 5, "updated": 0, "skipped": 0}
    assert sb.request_counts(bics_sandbox)["voice.call_logs.list"] == 1 + 3  # pages of 2
    log = CallLog.objects.get(to="+32470000003")
    assert log.bridge == BRIDGE and log.duration is not None and log.end_at and log.status
    assert call_logs_pull(**span)["updated"] == 5
    assert CallLog.objects.count() == 5


def test_recordings_walk_every_page(bics_sandbox):
    sb.configure(bics_sandbox, page_size=2)
    numbers = [f"+3247000010{n}" for n in range(3)]
    sb.answered(bics_sandbox, *numbers)  # only answered calls are recorded
    for number in numbers:
        call_send(call_create(kind=Call.Kind.CLICK2CALL, bridge=BRIDGE, from_number=number, to="12", record=True))
    sb.tick(bics_sandbox, 600)
    assert recordings_pull(**around_today())["created"] == 3
    assert sb.request_counts(bics_sandbox)["voice.recordings.list"] == 2
    assert all(url.startswith("http") for url in CallRecording.objects.values_list("url", flat=True))


def test_a_recording_url_that_is_not_http_is_dropped():
    assert recording_fields({"url": "javascript:alert(1)", "call_id": "c9"})["url"] == ""
    assert recording_fields({"url": "https://rec.example/1.mp3"})["url"] == "https://rec.example/1.mp3"


def test_date_range_format():
    assert date_range(date(2021, 4, 1), date(2021, 4, 12)) == "Apr 01, 2021 - Apr 12, 2021"


def test_pricing_pull_and_estimate(bics_sandbox):
    assert pricing_pull() == VoicePrice.objects.count() > 0
    be, fr = (VoicePrice.objects.get(iso=iso, service="SIPT") for iso in ("BE", "FR"))
    assert be.currency == "EUR"
    estimate = bulk_estimate(numbers=["+32470000001", "+33612345678", "+31612345678", "+81312345678"])
    nl = VoicePrice.objects.get(iso="NL", service="SIPT")
    assert estimate.total == be.price + fr.price + nl.price
    assert estimate.unpriced == 1 and not estimate.complete  # Japan is not in the price list
