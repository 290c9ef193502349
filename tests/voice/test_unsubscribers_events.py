"""Voice unsubscribers through the generic sync service; webhook event processing."""

import pytest
from django.contrib.auth.models import User

from core.models import SyncState
from core.sync import adapters_for
from tests import sandbox_helpers as sb
from voice.models import BulkCall, BulkCallBatch, BulkCallRecipient, Call, CallStatus, VoiceUnsubscriber
from voice.services import process_voice_event
from voice.services.calls import call_create, call_send
from voice.services.unsubscribers import (
    CLEAN_CONFIRMATION,
    unsubscriber_add,
    unsubscriber_delete,
    unsubscriber_edit,
    unsubscriber_view,
    unsubscribers_clean,
    unsubscribers_export_csv,
    unsubscribers_import,
    unsubscribers_pull,
)

pytestmark = pytest.mark.django_db


def test_adapter_is_registered_for_bics_sync():
    assert adapters_for("voice_unsubscribers")[0].model is VoiceUnsubscriber


def at_bics(sandbox) -> dict[str, dict]:
    """The voice unsubscribers BICS holds, by id."""
    response = sb.api(sandbox, "voice.unsubscribers.list", params={"per_page": 1000})
    response.raise_for_status()
    return {str(item["id"]): item for item in response.json()["data"]}


def add_at_bics(sandbox, receiver: str) -> str:
    """An opt-out recorded at BICS by someone else (the portal)."""
    response = sb.api(sandbox, "voice.unsubscribers.create", json={"receiver": receiver, "type": "all"})
    response.raise_for_status()
    return str(response.json()["data"]["id"])


def test_create_view_edit_delete_round_trip(bics_sandbox):
    obj = unsubscriber_add(number="+32470000001", type="tag", value="vip")
    assert obj.bics_id and obj.sync_state == SyncState.SYNCED
    assert at_bics(bics_sandbox)[obj.bics_id]["receiver"] == "32470000001"
    assert unsubscriber_view(obj)["value"] == "vip"
    obj = unsubscriber_edit(obj, value="gold")
    assert obj.sync_state == SyncState.SYNCED and at_bics(bics_sandbox)[obj.bics_id]["value"] == "gold"
    assert unsubscriber_delete(obj).deleted
    assert at_bics(bics_sandbox) == {} and not VoiceUnsubscriber.objects.exists()


def test_list_pulls_every_page_and_keeps_local_opt_outs(bics_sandbox):
    sb.configure(bics_sandbox, page_size=2)
    ids = [add_at_bics(bics_sandbox, f"3247000000{n}") for n in range(3)]
    VoiceUnsubscriber.objects.create(number="+32470999999", type="all")
    result = unsubscribers_pull()
    assert result.counts()["created"] == 3
    assert sb.request_counts(bics_sandbox)["voice.unsubscribers.list"] == 2
    assert VoiceUnsubscriber.objects.get(bics_id=ids[1]).iso == "BE"
    assert VoiceUnsubscriber.objects.filter(number="+32470999999").exists()


def test_pull_does_not_overwrite_a_dirty_record(bics_sandbox):
    bics_id = add_at_bics(bics_sandbox, "32470000007")
    VoiceUnsubscriber.objects.create(number="+32470000007", type="all", bics_id=bics_id, sync_state=SyncState.DIRTY,
                                     iso="FR")
    assert unsubscribers_pull().counts()["conflicts"] == 1
    assert VoiceUnsubscriber.objects.get(bics_id=bics_id).iso == "FR"


def test_clean_needs_a_superuser_and_the_typed_phrase(bics_sandbox):
    unsubscriber_add(number="+32470000001")
    staff = User.objects.create_user("staff", is_staff=True)
    root = User.objects.create_superuser("root", "root@example.org", "x")
    with pytest.raises(PermissionError):
        unsubscribers_clean(user=staff, confirmation=CLEAN_CONFIRMATION)
    with pytest.raises(ValueError, match="Type"):
        unsubscribers_clean(user=root, confirmation="yes")
    assert at_bics(bics_sandbox)
    assert unsubscribers_clean(user=root, confirmation=CLEAN_CONFIRMATION) == 1
    assert at_bics(bics_sandbox) == {} and not VoiceUnsubscriber.objects.exists()


def test_export_then_import(bics_sandbox):
    unsubscriber_add(number="+32470000001", push_now=False)
    assert "+32470000001,all" in unsubscribers_export_csv()
    result = unsubscribers_import(content=b"number\n32470000002\n+32470000003\n", filename="optouts.csv")
    assert result == {"message": "Receivers accepted for import", "added": 2}
    assert sb.request_counts(bics_sandbox)["voice.unsubscribers.import"] == 1
    imported = VoiceUnsubscriber.objects.get(number="+32470000002")
    assert imported.sync_state == SyncState.SYNCED and imported.bics_id is None
    # imported numbers are not pushed again; a later pull links them
    from voice.services.unsubscribers import unsubscribers_push

    unsubscribers_push()
    receivers = sorted(item["receiver"] for item in at_bics(bics_sandbox).values())
    assert receivers == ["32470000001", "32470000002", "32470000003"]
    unsubscribers_pull()
    imported.refresh_from_db()
    assert at_bics(bics_sandbox)[imported.bics_id]["receiver"] == "32470000002"


def test_unsubscription_event_adds_an_opt_out_once():
    payload = {"event": "voice:unsubscription", "data": {"id": 55, "receiver": "32470000001", "type": "all"}}
    assert process_voice_event("voice:unsubscription", payload)["created"] is True
    assert process_voice_event("voice:unsubscription", payload)["created"] is False
    obj = VoiceUnsubscriber.objects.get()
    assert obj.number == "+32470000001" and obj.bics_id == "55" and obj.sync_state == SyncState.SYNCED


def test_message_out_event_updates_the_call(bics_sandbox):
    call = call_send(call_create(kind=Call.Kind.FLOW, bridge="+3225551000", to="+32470000001", flow_id="1"))
    result = process_voice_event("voice:message:out", {"data": {
        "id": call.call_id, "to": "32470000001", "status": "BUSY", "duration": "7",
        "start_at": "2026-11-28 10:00:00", "end_at": "2026-11-28 10:00:07", "hangup_by": "callee"}})
    assert result == {"handled": True, "call": call.pk}
    call.refresh_from_db()
    assert call.status == CallStatus.BUSY and call.duration == 7 and call.hangup_by == "callee"


def test_message_out_event_updates_a_bulk_recipient():
    bulk = BulkCall.objects.create(name="b", bridge="+3225551000", flow_id="1", state=BulkCall.State.SENDING)
    batch = BulkCallBatch.objects.create(bulk_call=bulk, number=1, group_id="g-1", state=BulkCallBatch.State.SENT)
    recipient = BulkCallRecipient.objects.create(bulk_call=bulk, batch=batch, to="+32470000001", state="queued")
    result = process_voice_event("voice:message:out", {"group_id": "g-1", "to": "32470000001",
                                                       "status": "NOANSWER", "id": "x-1"})
    assert result == {"handled": True, "recipient": recipient.pk}
    recipient.refresh_from_db()
    assert recipient.status == CallStatus.NOANSWER and recipient.call_id == "x-1"


def test_other_events_are_not_handled():
    assert process_voice_event("sms:message:status", {})["handled"] is False
    assert process_voice_event("voice:message:out", {"id": "nope"})["handled"] is False


def test_events_in_the_webhook_body_shape_are_understood():
    body = {"event": "voice:unsubscription",
            "payload": {"id": "9", "receiver": "32470000002", "type": "all", "value": "", "iso": "BE"}}
    assert process_voice_event("voice:unsubscription", body)["handled"]
    assert VoiceUnsubscriber.objects.get(bics_id="9").iso == "BE"
