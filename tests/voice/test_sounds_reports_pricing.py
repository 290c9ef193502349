"""Sound files (URL check then create), report pulls with paging, pricing pulls."""

from datetime import date
from decimal import Decimal

import pytest

from voice.models import CallLog, CallRecording, RequestState, SoundFile, VoicePrice
from voice.services.pricing import bulk_estimate, pricing_pull
from voice.services.reports import call_logs_pull, date_range, recordings_pull
from voice.services.sounds import SoundUrlError, sound_file_create, sound_url_check

pytestmark = pytest.mark.django_db


def test_sound_url_must_answer_with_audio(audio_server):
    assert sound_url_check(f"{audio_server}/ok.mp3").content_type == "audio/mpeg"
    with pytest.raises(SoundUrlError, match="text/html"):
        sound_url_check(f"{audio_server}/page.html")
    with pytest.raises(SoundUrlError, match="404"):
        sound_url_check(f"{audio_server}/missing.mp3")
    with pytest.raises(SoundUrlError, match="http"):
        sound_url_check("ftp://example.org/a.mp3")


def test_sound_file_is_created_at_bics_with_the_audio(voice_bics, audio_server):
    sound = sound_file_create(name="Welcome", url=f"{audio_server}/hello.wav")
    assert sound.state == RequestState.QUEUED and sound.bics_id == voice_bics.sounds[0]["id"]
    assert sound.content_type == "audio/wav" and sound.size == voice_bics.sounds[0]["size"] > 0
    (body,) = [b for n, b in voice_bics.requests if n == "voice.sound_files.create"]
    assert body["name"] == "Welcome"


def test_a_non_audio_url_is_neither_stored_nor_sent(voice_bics, audio_server):
    with pytest.raises(SoundUrlError):
        sound_file_create(name="Page", url=f"{audio_server}/page.html")
    assert not SoundFile.objects.exists() and voice_bics.sounds == []


def test_call_logs_walk_every_page_and_upsert(voice_bics):
    voice_bics.logs = [{"id": i, "caller_id": "3225551000", "to": f"3247000000{i}", "status": "ANSWER",
                        "start_at": "2026-11-28 10:00:00", "end_at": "2026-11-28 10:01:00",
                        "duration": 60, "billing": 55} for i in range(5)]
    result = call_logs_pull(start=date(2026, 11, 27), end=date(2026, 11, 28))
    assert result == {"created": 5, "updated": 0, "skipped": 0}
    pages = [q for n, q in voice_bics.requests if n == "voice.call_logs.list"]
    assert len(pages) == 3 and pages[0]["datetime[end_at]"] == "Nov 27, 2026 - Nov 28, 2026"
    log = CallLog.objects.get(bics_id="3")
    assert log.to == "+32470000003" and log.duration == 60 and log.billing == 55 and log.end_at
    assert call_logs_pull(start=date(2026, 11, 27), end=date(2026, 11, 28))["updated"] == 5
    assert CallLog.objects.count() == 5


def test_recordings_walk_every_page(voice_bics):
    voice_bics.recordings = [{"id": f"r{i}", "call_id": f"c{i}", "url": f"https://rec.example/{i}.mp3",
                              "duration": 30, "created_at": "2026-11-28 09:00:00"} for i in range(3)]
    voice_bics.recordings.append({"id": "r9", "call_id": "c9", "url": "javascript:alert(1)"})
    assert recordings_pull()["created"] == 4
    assert len([1 for n, _ in voice_bics.requests if n == "voice.recordings.list"]) == 2
    assert CallRecording.objects.get(bics_id="r1").url == "https://rec.example/1.mp3"
    assert CallRecording.objects.get(bics_id="r9").url == ""


def test_date_range_format():
    assert date_range(date(2021, 4, 1), date(2021, 4, 12)) == "Apr 01, 2021 - Apr 12, 2021"


def test_pricing_pull_and_estimate(voice_bics):
    assert pricing_pull() == 2
    assert VoicePrice.objects.get(iso="FR").currency == "EUR"
    estimate = bulk_estimate(numbers=["+32470000001", "+33612345678", "+4915112345678"])
    assert estimate.total == Decimal("0.12") and estimate.unpriced == 1 and not estimate.complete
