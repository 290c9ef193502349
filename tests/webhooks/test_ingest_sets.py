"""Ingest as a stream: the receiver stores and answers; events are applied in sets, once,
never backwards, and a worker killed between applying and marking applies nothing."""

from __future__ import annotations

import json

import pytest

from messaging.campaigns.models import DeliveryReport, Message, SendBatch
from messaging.webhooks import ingest
from messaging.webhooks.models import WebhookEvent

from .conftest import BICS_ID, dlr, headers_for

pytestmark = pytest.mark.django_db


def post(client, data):
    """POST as BICS does, without running on-commit work: the worker is down."""
    body = json.dumps(data).encode()
    return client.generic("POST", "/webhooks/bics/ourhook/", body, content_type="application/json",
                          **headers_for(body))


@pytest.fixture
def messages(db):
    return Message.objects.bulk_create([
        Message(channel="sms", number=f"+3247{i:07d}", custom_id=f"c-{i}", status="submitted", bics_message_id=f"m-{i}")
        for i in range(600)])


def test_events_are_stored_before_200_and_applied_later_in_sets(client, hook, messages, settings):
    settings.BICS_WEBHOOK_APPLY_SET = 250
    for i in range(600):
        assert post(client, dlr(f"m-{i}", mobile=f"3247{i:07d}")).status_code == 200
    assert WebhookEvent.objects.filter(state="received").count() == 600
    assert not DeliveryReport.objects.exists()  # nothing applied inside the requests
    assert ingest.apply_pending_events(limit=300) == 300
    assert Message.objects.filter(status="delivered").count() == 300
    assert ingest.apply_pending_events() == 300
    assert ingest.apply_pending_events() == 0
    assert Message.objects.filter(status="delivered").count() == 600
    assert DeliveryReport.objects.filter(applied=True, source="webhook").count() == 600
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}
    event = WebhookEvent.objects.order_by("pk").first()
    assert event.attempts == 1 and event.result["applied"] is True and event.result["message"] == messages[0].pk


def test_a_duplicate_delivery_is_stored_and_applied_once(client, hook, messages):
    for _ in range(3):
        assert post(client, dlr("m-1", mobile="32470000001")).status_code == 200
    assert ingest.apply_pending_events() == 1
    assert DeliveryReport.objects.filter(message=messages[1]).count() == 1


def test_out_of_order_in_one_set_never_moves_backwards(client, hook, messages):
    post(client, dlr("m-1", "DELIVRD", mobile="32470000001"))
    post(client, dlr("m-1", "ACCEPTD", mobile="32470000001"))  # an intermediate report arriving late
    post(client, dlr("m-2", "UNDELIV", mobile="32470000002"))
    post(client, dlr("m-2", "DELIVRD", mobile="32470000002"))  # a final failure stays final
    assert ingest.apply_pending_events() == 4
    first, second = Message.objects.get(pk=messages[1].pk), Message.objects.get(pk=messages[2].pk)
    assert first.status == "delivered" and first.delivered_at is not None
    assert second.status == "failed" and second.bics_status == "UNDELIV" and second.error_description
    applied = dict(DeliveryReport.objects.filter(message=messages[1]).values_list("status", "applied"))
    assert applied == {"DELIVRD": True, "ACCEPTD": False}
    assert DeliveryReport.objects.filter(message=messages[2], applied=True).values_list("status", flat=True).get() \
        == "UNDELIV"


def test_a_worker_killed_between_apply_and_mark_applies_nothing(client, hook, messages, monkeypatch):
    for i in range(5):
        post(client, dlr(f"m-{i}", mobile=f"3247{i:07d}"))

    def killed(outcomes):
        raise SystemExit("worker killed before the set was marked")

    monkeypatch.setattr(ingest, "_mark", killed)
    with pytest.raises(SystemExit):
        ingest.apply_pending_events()
    assert not DeliveryReport.objects.exists()  # the set's effects went with it
    assert Message.objects.filter(status="delivered").count() == 0
    assert WebhookEvent.objects.filter(state="received").count() == 5
    monkeypatch.undo()
    assert ingest.apply_pending_events() == 5
    assert DeliveryReport.objects.count() == 5 == Message.objects.filter(status="delivered").count()


def test_an_identical_text_batch_matches_by_its_custom_and_the_number(client, hook):
    batch = SendBatch.objects.create(custom="c9-b1", size=2, text="Hi")
    one, two = Message.objects.bulk_create([
        Message(channel="sms", batch=batch, number=n, custom_id=f"c9-{n}", status="submitted")
        for n in ("+32470000001", "+32470000002")])
    post(client, dlr("bics-1", "DELIVRD", cid="c9-b1", mobile="32470000002"))
    assert ingest.apply_pending_events() == 1
    two.refresh_from_db()
    one.refresh_from_db()
    assert two.status == "delivered" and two.bics_message_id == "bics-1"  # the id is kept for later reports
    assert one.status == "submitted"


def test_one_bad_event_fails_alone(client, hook, messages, monkeypatch):
    from messaging.webhooks import registry

    post(client, dlr("m-1", mobile="32470000001"))
    post(client, {"event": "sms:unsubscription", "payload": {"mobile": "32470000009", "type": "all"}})
    monkeypatch.setitem(registry.PROCESSORS, "sms:unsubscription", lambda event: 1 / 0)
    assert ingest.apply_pending_events() == 2
    states = dict(WebhookEvent.objects.values_list("event_type", "state"))
    assert states == {"sms:message:status": "processed", "sms:unsubscription": "failed"}
    assert "ZeroDivisionError" in WebhookEvent.objects.get(event_type="sms:unsubscription").error


def test_the_beat_drains_what_the_receiver_stored(client, hook, messages):
    from messaging.webhooks.tasks import sweep_webhook_events

    post(client, dlr("m-3", mobile="32470000003"))
    assert sweep_webhook_events() == 1
    assert Message.objects.get(pk=messages[3].pk).status == "delivered"


def test_forged_events_are_not_stored(client, hook):
    body = json.dumps(dlr("m-1")).encode()
    resp = client.generic("POST", "/webhooks/bics/ourhook/", body, content_type="application/json",
                          **headers_for(body, secret="wrong", key=BICS_ID))
    assert resp.status_code == 403
    resp = client.generic("POST", "/webhooks/bics/ourhook/", body, content_type="application/json",
                          **headers_for(body, secret=None, signature="0" * 64))
    assert resp.status_code in (401, 403)
    assert not WebhookEvent.objects.exists()


def test_a_set_shares_times_keeps_raw_without_private_keys_and_matches_the_oldest_of_a_shared_id(db):
    """Reports of a set with the same time, with none, with another channel's message of the
    same BICS id: each stamped with its own time, raw stored without '_' keys, the sms one matched."""
    from messaging.campaigns.services.dlr_sets import dlr_apply_set

    old, newer, viber = Message.objects.bulk_create([
        Message(channel="sms", number="+32470000001", custom_id="t-1", status="submitted", bics_message_id="dup"),
        Message(channel="sms", number="+32470000002", custom_id="t-2", status="submitted", bics_message_id="dup"),
        Message(channel="viber", number="+32470000003", custom_id="t-3", status="submitted", bics_message_id="v")])
    items = [{"id": "dup", "status": "DELIVRD", "deliv_time": "2026-01-02 10:00:00", "_seen": 1},
             {"id": "v", "status": "DELIVRD", "deliv_time": "2026-01-02 10:00:00"},
             {"custom": "t-2", "status": "DELIVRD", "deliv_time": "2026-01-02 11:30:00"}]
    assert dlr_apply_set(channel="sms", items=items, source="webhook") == [(old.pk, True), (None, False),
                                                                         (newer.pk, True)]
    old.refresh_from_db(), newer.refresh_from_db(), viber.refresh_from_db()
    assert (old.delivered_at.hour, old.delivered_at.minute) == (10, 0)
    assert (newer.delivered_at.hour, newer.delivered_at.minute) == (11, 30)
    assert viber.status == "submitted"
    assert DeliveryReport.objects.get(message=old).raw == {"id": "dup", "status": "DELIVRD",
                                                          "deliv_time": "2026-01-02 10:00:00"}
