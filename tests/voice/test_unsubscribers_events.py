"""Voice unsubscribers through the generic sync service; webhook event processing."""

import pytest
from django.contrib.auth.models import User

from core.models import SyncState
from core.sync import adapters_for
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


def test_create_view_edit_delete_round_trip(voice_bics):
    obj = unsubscriber_add(number="+32470000001", type="tag", value="vip")
    assert obj.bics_id and obj.sync_state == SyncState.SYNCED
    assert voice_bics.unsubscribers[obj.bics_id]["receiver"] == "32470000001"
    assert unsubscriber_view(obj)["value"] == "vip"
    obj = unsubscriber_edit(obj, value="gold")
    assert obj.sync_state == SyncState.SYNCED and voice_bics.unsubscribers[obj.bics_id]["value"] == "gold"
    assert unsubscriber_delete(obj).deleted
    assert voice_bics.unsubscribers == {} and not VoiceUnsubscriber.objects.exists()


def test_list_pulls_every_page_and_keeps_local_opt_outs(voice_bics):
    for n in range(3):
        voice_bics.unsubscribers[str(n)] = {"id": str(n), "receiver": f"3247000000{n}", "type": "all",
                                            "value": "", "iso": "be"}
    VoiceUnsubscriber.objects.create(number="+32470999999", type="all")
    result = unsubscribers_pull()
    assert result.counts()["created"] == 3
    assert VoiceUnsubscriber.objects.get(bics_id="1").iso == "BE"
    assert VoiceUnsubscriber.objects.filter(number="+32470999999").exists()


def test_pull_does_not_overwrite_a_dirty_record(voice_bics):
    voice_bics.unsubscribers["7"] = {"id": "7", "receiver": "32470000007", "type": "all", "value": ""}
    VoiceUnsubscriber.objects.create(number="+32470000007", type="all", bics_id="7", sync_state=SyncState.DIRTY,
                                     iso="FR")
    assert unsubscribers_pull().counts()["conflicts"] == 1


def test_clean_needs_a_superuser_and_the_typed_phrase(voice_bics):
    unsubscriber_add(number="+32470000001")
    staff = User.objects.create_user("staff", is_staff=True)
    root = User.objects.create_superuser("root", "root@example.org", "x")
    with pytest.raises(PermissionError):
        unsubscribers_clean(user=staff, confirmation=CLEAN_CONFIRMATION)
    with pytest.raises(ValueError, match="Type"):
        unsubscribers_clean(user=root, confirmation="yes")
    assert voice_bics.unsubscribers
    assert unsubscribers_clean(user=root, confirmation=CLEAN_CONFIRMATION) == 1
    assert voice_bics.unsubscribers == {} and not VoiceUnsubscriber.objects.exists()


def test_export_then_import(voice_bics):
    unsubscriber_add(number="+32470000001", push_now=False)
    assert "+32470000001,all" in unsubscribers_export_csv()
    result = unsubscribers_import(content=b"number\n32470000002\n+32470000003\n", filename="optouts.csv")
    assert result == {"message": "Receivers accepted for import", "added": 2}
    assert voice_bics.imports == [b"number\n32470000002\n+32470000003\n"]
    imported = VoiceUnsubscriber.objects.get(number="+32470000002")
    assert imported.sync_state == SyncState.SYNCED and imported.bics_id is None
    # imported numbers are not pushed again; a later pull links them
    from voice.services.unsubscribers import unsubscribers_push

    unsubscribers_push()
    assert [u["receiver"] for u in voice_bics.unsubscribers.values()] == ["32470000001"]
    voice_bics.unsubscribers["99"] = {"id": "99", "receiver": "32470000002", "type": "all", "value": ""}
    unsubscribers_pull()
    imported.refresh_from_db()
    assert imported.bics_id == "99"


def test_unsubscription_event_adds_an_opt_out_once():
    payload = {"event": "voice:unsubscription", "data": {"id": 55, "receiver": "32470000001", "type": "all"}}
    assert process_voice_event("voice:unsubscription", payload)["created"] is True
    assert process_voice_event("voice:unsubscription", payload)["created"] is False
    obj = VoiceUnsubscriber.objects.get()
    assert obj.number == "+32470000001" and obj.bics_id == "55" and obj.sync_state == SyncState.SYNCED


def test_message_out_event_updates_the_call(voice_bics):
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
