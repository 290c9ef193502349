"""Voice against the shared BICS sandbox over real HTTP: every operation and variant, bulk
calls surviving a worker crash (checked with the sandbox's own record of calls placed), the
exclusion of voice unsubscribers and the reports' paging."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.utils import timezone

try:
    from bics.sandbox import SandboxServer  # noqa: F401
except ImportError:  # pragma: no cover - until the sandbox lands
    pytest.skip("bics.sandbox.SandboxServer is not available yet", allow_module_level=True)

from contacts.models import Contact, Tag
from core.bics import get_client as client
from tests.conftest import SANDBOX_TOKEN
from voice.models import BulkCall, BulkCallBatch, Call, CallLog, RequestState, VoicePrice, VoiceUnsubscriber
from voice.services.bulk import bulk_call_launch
from voice.services.bulk_batches import (
    batch_body,
    batch_claim,
    batch_send,
    bulk_sweep,
    claim_timeout,
)
from voice.services.calls import call_create, call_refresh_status, call_send, call_status_lookup
from voice.services.pricing import pricing_pull
from voice.services.reports import call_logs_pull
from voice.services.sounds import sound_file_create
from voice.services.unsubscribers import (
    unsubscriber_add,
    unsubscriber_delete,
    unsubscriber_edit,
    unsubscriber_view,
    unsubscribers_import,
    unsubscribers_pull,
)

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]
BRIDGE = "+3225551000"


def root(sandbox):
    return sandbox.url.split("/api/v2/")[0]


def placed(sandbox) -> list[str]:
    resp = requests.get(f"{root(sandbox)}/_sandbox/sent", params={"token": SANDBOX_TOKEN}, timeout=5)
    resp.raise_for_status()
    return [item["number"] for item in resp.json()["items"] if item["route"].startswith("voice.")]


def tick(sandbox, seconds=60):
    requests.post(f"{root(sandbox)}/_sandbox/tick", json={"seconds": seconds}, timeout=5).raise_for_status()


@pytest.mark.parametrize("kind,extra", [
    (Call.Kind.FLOW, {"flow_id": "77", "interval": 15}),
    (Call.Kind.FLOW_VARIABLES, {"flow_id": "77", "variables": {"Name": "Ann"}}),
    (Call.Kind.TTS, {"tts_text": "Hello", "voice_id": "Amy"}),
    (Call.Kind.AUDIO_FILE, {"audio_url": "https://example.org/a.mp3"}),
])
def test_each_call_variant_is_queued(bics_sandbox, kind, extra):
    call = call_send(call_create(kind=kind, bridge=BRIDGE, to="+32470000001", **extra))
    assert call.state == RequestState.QUEUED, call.error
    assert placed(bics_sandbox) == ["32470000001"]


def test_click_to_call_and_status(bics_sandbox):
    call = call_send(call_create(kind=Call.Kind.CLICK2CALL, bridge=BRIDGE, from_number="+32470000100",
                                 to="+32470000002", record=True, attempts=2, duration_limit="5"))
    assert call.state == RequestState.QUEUED and call.call_id
    tick(bics_sandbox)
    call = call_refresh_status(call)
    assert call.status


def test_status_lookup_by_id_number_and_date(bics_sandbox):
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to="+32470000003", flow_id="1"))
    assert call_status_lookup(id=call.call_id)
    assert call_status_lookup(mobile="+32470000003")
    assert call_status_lookup(date=timezone.now())


def _pin_both_clocks_at(bics_sandbox, monkeypatch, hour: int, minute: int) -> datetime:
    """Move the sandbox's clock and the product's ``timezone.now`` to the next hh:mm UTC."""
    now = datetime.now(UTC)
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    shift = target - now
    tick(bics_sandbox, shift.total_seconds())
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + shift)
    return target


def test_status_lookup_by_date_half_an_hour_before_midnight_utc(bics_sandbox, monkeypatch):
    # BICS timestamps carry no zone; BICS_TIME_ZONE (UTC here) names it on both sides, so at
    # 23:30 UTC the call is on the same BICS day as the product asks for, whatever TIME_ZONE is.
    target = _pin_both_clocks_at(bics_sandbox, monkeypatch, 23, 30)
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to="+32470000013", flow_id="1"))
    items = call_status_lookup(mobile="+32470000013", date=timezone.now())
    assert [i.get("id") for i in items] == [call.call_id]
    assert target.strftime("%Y-%m-%d") == timezone.now().strftime("%Y-%m-%d")


@pytest.fixture
def vip():
    tag = Tag.objects.create(name="vip")
    for n in range(5):
        Contact.objects.create(phone=f"+3247000020{n}").tags.add(tag)
    return tag


def test_bulk_call_survives_a_worker_crash_without_calling_anyone_twice(
        bics_sandbox, vip, django_capture_on_commit_callbacks):
    VoiceUnsubscriber.objects.create(number="+32470000204")
    bulk = BulkCall.objects.create(name="crash", bridge=BRIDGE, flow_id="191", batch_size=2,
                                   audience_kind=BulkCall.AudienceKind.TAGS)
    bulk.tags.add(vip)
    bulk = bulk_call_launch(bulk, enqueue=False)
    first, second = bulk.batches.order_by("number")
    assert batch_claim(first.pk)
    client().call("voice.bulk_calls.create", json=batch_body(first))  # sent, then the worker died
    assert batch_claim(second.pk)  # claimed, then the worker died before sending
    with django_capture_on_commit_callbacks(execute=True):
        bulk_sweep(now=timezone.now() + claim_timeout() + timedelta(seconds=1))
    bulk.refresh_from_db()
    assert bulk.state == BulkCall.State.SENT
    assert set(bulk.batches.values_list("state", flat=True)) == {BulkCallBatch.State.SENT}
    numbers = placed(bics_sandbox)
    assert sorted(numbers) == [f"3247000020{n}" for n in range(4)]  # once each, not the opted-out one


def test_bulk_same_audio(bics_sandbox, vip):
    bulk = BulkCall.objects.create(name="same", bridge=BRIDGE, mode=BulkCall.Mode.SAME_AUDIO,
                                   audio_url="https://example.org/same.mp3", audience_kind=BulkCall.AudienceKind.TAGS)
    bulk.tags.add(vip)
    bulk = bulk_call_launch(bulk, enqueue=False)
    assert batch_send(bulk.batches.get().pk) == BulkCallBatch.State.SENT
    bulk.refresh_from_db()
    assert bulk.total == 5 and bulk.group_id


def test_call_logs_paging(bics_sandbox):
    for n in range(30):
        call_send(call_create(kind=Call.Kind.FLOW, bridge=BRIDGE, to=f"+324700003{n:02d}", flow_id="1"))
    tick(bics_sandbox, 600)
    result = call_logs_pull(start=timezone.localdate() - timedelta(days=1), end=timezone.localdate() + timedelta(days=1))
    assert result["created"] == 30 and CallLog.objects.count() == 30


def test_unsubscriber_operations(bics_sandbox):
    obj = unsubscriber_add(number="+32470000401", type="tag", value="vip")
    assert obj.bics_id
    assert unsubscriber_view(obj)
    unsubscriber_edit(obj, value="gold")
    assert unsubscribers_pull().ok
    unsubscribers_import(content=b"32470000402\n", filename="o.csv")
    assert unsubscriber_delete(VoiceUnsubscriber.objects.get(pk=obj.pk)).deleted


def test_sound_file_and_pricing(bics_sandbox, audio_server):
    sound = sound_file_create(name="Hello", url=f"{audio_server}/ok.mp3")
    assert sound.bics_id
    assert pricing_pull() >= 1 and VoicePrice.objects.exists()


def test_audio_id_variant_uses_a_created_sound(bics_sandbox, audio_server):
    sound = sound_file_create(name="Hi", url=f"{audio_server}/hello.wav")
    call = call_create(kind=Call.Kind.AUDIO_ID, bridge=BRIDGE, to="+32470000005", sound_file=sound)
    from voice.services.calls import call_payload

    assert call_payload(call)["audio_id"] == sound.bics_id


def test_bulk_audio_per_recipient_from_an_uploaded_list(bics_sandbox):
    from django.core.files.base import ContentFile

    bulk = BulkCall(name="per", bridge=BRIDGE, mode=BulkCall.Mode.AUDIO_PER_RECIPIENT,
                    audience_kind=BulkCall.AudienceKind.UPLOAD)
    bulk.upload.save("l.csv", ContentFile(b"number,audio\n+32470000501,https://e.org/1.mp3\n"
                                          b"+32470000502,https://e.org/2.mp3\n"))
    bulk = bulk_call_launch(bulk, enqueue=False)
    assert batch_send(bulk.batches.get().pk) == BulkCallBatch.State.SENT
    assert sorted(placed(bics_sandbox)) == ["32470000501", "32470000502"]


def test_recordings_pull_and_message_out_event(bics_sandbox):
    from voice.services import process_voice_event
    from voice.services.reports import recordings_pull

    call = call_send(call_create(kind=Call.Kind.CLICK2CALL, bridge=BRIDGE, from_number="+32470000600",
                                 to="+32470000601", record=True))
    tick(bics_sandbox, 600)
    today = timezone.localdate()
    recordings_pull(start=today - timedelta(days=1), end=today + timedelta(days=1))
    (item,) = call_status_lookup(id=call.call_id)
    assert process_voice_event("voice:message:out", item)["handled"]
    call.refresh_from_db()
    assert call.status == item["status"]


def test_bics_sync_command_pulls_voice_unsubscribers(bics_sandbox):
    from django.core.management import call_command

    unsubscriber_add(number="+32470000701")
    VoiceUnsubscriber.objects.all().delete()
    call_command("bics_sync", "voice_unsubscribers", "--pull")
    assert VoiceUnsubscriber.objects.filter(number="+32470000701").exists()


def test_sandbox_stop_reply_becomes_a_voice_opt_out(bics_sandbox):
    from voice.services import process_voice_event

    resp = requests.post(f"{root(bics_sandbox)}/_sandbox/optout",
                         json={"product": "voice", "number": "+32470000801", "token": SANDBOX_TOKEN}, timeout=5)
    resp.raise_for_status()
    (view,) = resp.json()["unsubscribers"]
    assert process_voice_event("voice:unsubscription", {"event": "voice:unsubscription", "payload": view})["handled"]
    assert VoiceUnsubscriber.objects.get(number="+32470000801").bics_id == str(view["id"])
