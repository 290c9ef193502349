"""Processing: once per event, never backwards, every event type, failures listed."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site

from bics.webhooks import sign
from contacts.models import Contact
from messaging.campaigns.models import DeliveryReport, Message, SmartLink, SmartLinkVisit
from messaging.campaigns.services.dlr import dlr_record
from messaging.catalogue.models import Unsubscriber
from messaging.webhooks.models import InboundMessage, Subscription, Webhook, WebhookEvent
from messaging.webhooks.services import webhook_events_reprocess

from .conftest import BICS_ID, SECRET, dlr

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(db):
    return Message.objects.create(channel="sms", number="+32470000001", custom_id="c-1", status="submitted",
                                  bics_message_id="m-1")


def test_dlr_envelope_updates_the_message_and_adds_a_delivery_report(deliver, hook, message):
    deliver(dlr())
    message.refresh_from_db()
    assert message.status == "delivered" and message.bics_status == "DELIVRD"
    report = DeliveryReport.objects.get()
    assert report.source == "webhook" and report.message == message and report.applied
    assert WebhookEvent.objects.get().state == "processed"


def test_flat_help_dlr_is_an_sms_status(deliver, hook, message):
    deliver(dlr(envelope=False, cid="c-1", message_id="other-id"))
    event = WebhookEvent.objects.get()
    assert event.event_type == "sms:message:status"
    message.refresh_from_db()
    assert message.status == "delivered"  # found by cid = our custom


def test_customised_get_webhook_with_query_parameters(client, hook, message, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.get("/webhooks/bics/ourhook/?message_id=m-1&mobile_number=32470000001&message_status=UNDELIV",
                          HTTP_AUTHORIZATION=f"Bearer {SECRET}")
    assert resp.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.method == "GET" and event.event_type == "sms:message:status"
    assert event.payload == {"id": "m-1", "mobile": "32470000001", "status": "UNDELIV"}
    message.refresh_from_db()
    assert message.status == "failed"


def test_customised_get_names_its_event_in_the_url(client, hook, django_capture_on_commit_callbacks):
    Message.objects.create(channel="whatsapp", number="+32470000002", custom_id="w-1", status="submitted",
                           bics_message_id="wa-1")
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/webhooks/bics/ourhook/?event=whatsapp:message:status&id=wa-1&status=read",
                   HTTP_AUTHORIZATION=f"Bearer {SECRET}")
    assert WebhookEvent.objects.get().event_type == "whatsapp:message:status"
    assert Message.objects.get(custom_id="w-1").status == "read"


def test_a_replayed_event_is_stored_and_processed_once(deliver, hook, message):
    assert deliver(dlr()).status_code == 200
    assert deliver(dlr()).status_code == 200  # BICS retry: still 2xx
    assert WebhookEvent.objects.count() == 1
    assert DeliveryReport.objects.count() == 1


def test_processing_an_event_twice_applies_it_once(deliver, hook, message):
    from messaging.webhooks.services import webhook_event_process

    deliver(dlr())
    event = WebhookEvent.objects.get()
    assert webhook_event_process(event_id=event.pk) == "processed"
    assert DeliveryReport.objects.count() == 1


def test_out_of_order_dlrs_never_move_a_message_backwards(deliver, hook, message):
    deliver(dlr(status="DELIVRD"))
    deliver(dlr(status="ACCEPTD", deliv_time=None))  # an older report arriving late
    deliver(dlr(status="UNDELIV"))
    message.refresh_from_db()
    assert message.status == "delivered"
    assert list(DeliveryReport.objects.order_by("pk").values_list("applied", flat=True)) == [True, False, False]


def test_webhook_and_poll_racing_on_one_message_is_a_no_op_for_the_second(deliver, hook, message):
    polled = dlr_record(channel="sms", item=dlr(envelope=False), source="pull")
    deliver(dlr())
    message.refresh_from_db()
    assert polled.applied and message.status == "delivered"
    webhook_report = DeliveryReport.objects.get(source="webhook")
    assert not webhook_report.applied
    # and the other way round
    other = Message.objects.create(channel="sms", number="+32470000009", custom_id="c-9", status="submitted",
                                   bics_message_id="m-9")
    deliver(dlr("m-9"))
    assert not dlr_record(channel="sms", item=dlr("m-9", envelope=False), source="pull").applied
    other.refresh_from_db()
    assert other.status == "delivered"


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "viber"])
def test_unsubscription_adds_the_number_to_that_channels_unsubscribers(deliver, hook, channel):
    deliver({"event": f"{channel}:unsubscription",
             "payload": {"id": "u-1", "receiver": "32470111222", "type": "all", "value": ""}})
    unsub = Unsubscriber.objects.get()
    assert unsub.channel == channel and unsub.number == "+32470111222" and unsub.sync_state == "synced"
    assert WebhookEvent.objects.get().state == "processed"


@pytest.mark.parametrize("event_type", ["voice:unsubscription", "voice:message:out"])
def test_voice_events_go_to_the_voice_service(deliver, hook, event_type, monkeypatch):
    seen = []
    monkeypatch.setattr("voice.services.process_voice_event", lambda t, p: seen.append((t, p)) or {"ok": 1})
    deliver({"event": event_type, "payload": {"mobile": "32470111222", "status": "ANSWERED", "cid": "x"}})
    assert seen == [(event_type, {"mobile": "32470111222", "status": "ANSWERED", "cid": "x"})]
    event = WebhookEvent.objects.get()
    assert event.state == "processed" and event.result == {"ok": 1}


def test_voice_events_are_processed_by_the_real_voice_service(deliver, hook):
    deliver({"event": "voice:unsubscription", "payload": {"id": "v-1", "receiver": "32470111333", "type": "all"}})
    assert WebhookEvent.objects.get().state in ("processed", "failed")  # stored in any case


@pytest.mark.parametrize(("event_type", "channel"), [
    ("whatsapp:message:in", "whatsapp"), ("viber:message:in", "viber"), ("vmn:message:in", "interact")])
def test_inbound_messages_are_listed_with_their_contact(deliver, hook, event_type, channel):
    contact = Contact.objects.create(phone="+32470555666", country="BE")
    deliver({"event": event_type, "payload": {"id": "in-1", "from": "32470555666", "to": "3278000000",
                                              "text": "STOP please", "created_at": "2026-01-02 10:00:00"}})
    inbound = InboundMessage.objects.get()
    assert (inbound.channel, inbound.from_number, inbound.to_number, inbound.text) == (
        channel, "+32470555666", "+3278000000", "STOP please")
    assert inbound.contact == contact


def test_contact_event_upserts_the_contact_and_never_marks_it_dirty(deliver, hook):
    deliver({"event": "contacts:subscriber:subscription",
             "payload": {"id": "ct-9", "phone": "+32470777888", "first_name": "Ann"}})
    contact = Contact.objects.get(phone="+32470777888")
    assert contact.bics_id == "ct-9" and contact.first_name == "Ann" and contact.sync_state == "synced"


def test_smart_link_visit_is_stored_with_its_fields(deliver, hook):
    link = SmartLink.objects.create(link_id="246", name="Spring link")
    deliver({"id": "b34e35ad:1", "link_id": 246, "user_agent": "Mozilla/5.0)", "browser": "Goole Chorme",
             "browser_version": "23.3.1", "platform": "Android", "device_type": "smartphone",
             "device_brand": "Redmi", "country": "india", "country_code": "IN", "region": "Karnataka",
             "city": "Bangalore", "mobile": "9189195XXXXX", "created_at": "2021-04-09 16:27:39"})
    visit = SmartLinkVisit.objects.get()
    assert visit.smart_link == link and visit.city == "Bangalore" and visit.device_brand == "Redmi"
    assert WebhookEvent.objects.get().event_type == "smartlink:visit"


def test_unknown_event_is_stored_and_ignored(deliver, hook):
    deliver({"event": "email:message:status", "payload": {"id": 1}})
    assert WebhookEvent.objects.get().state == "ignored"


def test_failed_event_is_listed_with_its_error_and_processed_again(deliver, hook, monkeypatch, admin_client):
    from messaging.webhooks import registry

    def broken(event):
        raise RuntimeError("contacts service down")

    monkeypatch.setitem(registry.PROCESSORS, "contacts:subscriber:subscription", broken)
    deliver({"event": "contacts:subscriber:subscription", "payload": {"id": "ct-1", "phone": "+32470123123"}})
    event = WebhookEvent.objects.get()
    assert event.state == "failed" and "contacts service down" in event.error
    page = admin_client.get("/admin/webhooks/webhookevent/?state__exact=failed")
    assert b"contacts service down" in page.content
    monkeypatch.undo()
    resp = admin_client.post("/admin/webhooks/webhookevent/", {"action": "process_again", "_selected_action": [event.pk]})
    assert resp.status_code == 302
    event.refresh_from_db()
    assert event.state == "processed" and event.error == ""
    assert Contact.objects.filter(phone="+32470123123").exists()
    assert webhook_events_reprocess(queryset=WebhookEvent.objects.all())["processed"] == 0


def test_admin_pages_render(admin_client, hook, deliver):
    deliver(dlr())
    for label, name in (("webhooks", "webhook"), ("webhooks", "subscription"), ("webhooks", "webhookevent"),
                        ("webhooks", "inboundmessage"), ("campaigns", "smartlink"), ("campaigns", "smartlinkvisit")):
        assert admin_client.get(f"/admin/{label}/{name}/").status_code == 200, name
        old = admin_client.get(f"/admin/messaging/{name}/?q=1")  # a bookmark from before the split
        assert (old.status_code, old["Location"]) == (301, f"/admin/{label}/{name}/?q=1"), name
    assert admin_client.get("/admin/webhooks/webhook/add/").status_code == 200
    assert admin_client.get("/admin/webhooks/webhook/connect/").status_code == 200
    change = admin_client.get(f"/admin/webhooks/webhook/{hook.pk}/change/")
    assert change.status_code == 200 and SECRET.encode() not in change.content
    assert {Webhook, Subscription, WebhookEvent, InboundMessage} <= set(site._registry)


def test_secret_is_generated_shown_once_then_masked(admin_client, hook):
    resp = admin_client.post(f"/admin/webhooks/webhook/{hook.pk}/change/", {
        "name": hook.name, "uri": hook.uri, "status": "1", "slug": hook.slug, "generate_secret": "on",
        "new_secret": "", "new_token": ""}, follow=True)
    hook.refresh_from_db()
    assert resp.context and not resp.context.get("errors"), resp.context.get("errors")
    assert hook.secret != SECRET and hook.secret.encode() in resp.content  # shown once
    assert hook.sync_state == "dirty"
    again = admin_client.get(f"/admin/webhooks/webhook/{hook.pk}/change/")
    assert hook.secret.encode() not in again.content and "(set)" in again.content.decode()


def test_signature_helper_matches_the_documented_choice(hook):
    body = b'{"a":1}'
    assert sign(body, BICS_ID) != sign(body, SECRET)


def test_each_app_registers_its_processors_and_webhooks_imports_none_of_them():
    """The registry is filled by the apps' ready(): voice, contacts and campaigns register
    their events; the webhooks package itself imports none of those apps."""
    import ast
    from pathlib import Path

    from messaging.webhooks.registry import PROCESSORS

    owners = {event: fn.__module__.removeprefix("messaging.").split(".")[0] for event, fn in PROCESSORS.items()}
    assert owners["voice:message:out"] == "voice"
    assert owners["contacts:subscriber:subscription"] == "contacts"
    assert owners["sms:message:status"] == owners["smartlink:visit"] == owners["sms:unsubscription"] == "campaigns"
    assert owners["whatsapp:message:in"] == "webhooks"
    package = Path(__import__("messaging.webhooks").webhooks.__file__).parent
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                assert not name.startswith(("voice", "contacts", "messaging.campaigns")), f"{path}: {name}"
