"""Replies that say STOP or START: signed inbound callbacks from the sandbox opt the sender out
of the channel at once (pushed to BICS), START undoes only a keyword opt-out, every change is
logged with its reply, shown on the contact, and queued campaign messages are not sent."""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse

from messaging.campaigns.services import dispatch, engine
from messaging.campaigns.services.campaigns import campaign_launch
from messaging.catalogue.models import OptOutChange, OptOutKeyword, Unsubscriber, keyword_normalise
from messaging.webhooks.connect import webhook_connect
from messaging.webhooks.models import InboundMessage, WebhookEvent
from tests.conftest import SANDBOX_TOKEN
from tests.webhooks.test_sandbox_e2e import wait_for


@pytest.fixture
def shipped_keywords(db):
    """The shipped keywords (a data migration): transactional tests flush them, so ship again."""
    import importlib

    from django.apps import apps

    shipped = importlib.import_module("messaging.catalogue.migrations.0009_optout_keywords_shipped")
    shipped.ship(apps, None)


@pytest.fixture
def connected(sandbox, live_server, settings, shipped_keywords):
    settings.PUBLIC_BASE_URL = live_server.url
    webhook_connect()
    requests.post(sandbox.root + "wait", json={}, timeout=15)


def reply(sandbox, number: str, text: str, *, event="vmn:message:in", message_id="in-1"):
    """The sandbox sends a signed inbound-message callback to our live receiver."""
    payload = {"id": message_id, "from": number.lstrip("+"), "to": "32460000000", "text": text}
    resp = requests.post(sandbox.root + f"event?token={SANDBOX_TOKEN}", json={"event": event, "payload": payload},
                         timeout=5)
    resp.raise_for_status()
    assert resp.json()["queued"] == 1
    requests.post(sandbox.root + "wait", json={}, timeout=15)


def bics_unsubscribers(sandbox) -> list[str]:
    from tests.sandbox_helpers import api

    data = api(sandbox.server, "sms.unsubscribers.list").json()
    return [str(item.get("receiver")).lstrip("+") for item in data.get("data", [])]


def test_keywords_match_trimmed_case_and_accent_insensitive():
    assert keyword_normalise("  Arrêt! ") == keyword_normalise("ARRET") == "arret"
    assert keyword_normalise("stop") == keyword_normalise(" STOP\n") == "stop"
    assert keyword_normalise("stop by the shop") != "stop"


@pytest.mark.django_db
def test_shipped_keywords_cover_the_usual_words_in_several_languages():
    stop = set(OptOutKeyword.objects.filter(action="stop").values_list("normalised", flat=True))
    start = set(OptOutKeyword.objects.filter(action="start").values_list("normalised", flat=True))
    assert {"stop", "stopp", "arret", "unsubscribe"} <= stop
    assert "start" in start and not stop & start
    assert set(OptOutKeyword.objects.values_list("language", flat=True)) >= {"en", "fr", "nl", "de"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
def test_a_signed_stop_reply_opts_out_pushes_to_bics_and_shows_on_the_contact(connected, sandbox, make_contacts,
                                                                               admin_client):
    contact = make_contacts(1)[0]
    reply(sandbox, contact.phone, "  Arrêt ")
    assert wait_for(lambda: Unsubscriber.objects.filter(channel="sms", number=contact.phone, type="all").exists())
    assert wait_for(lambda: Unsubscriber.objects.get(number=contact.phone).sync_state == "synced")
    assert contact.phone.lstrip("+") in bics_unsubscribers(sandbox)
    change = OptOutChange.objects.get()
    inbound = InboundMessage.objects.get()
    assert (change.action, change.keyword, change.inbound_message, change.contact_id) == (
        "opt_out", "arret", inbound, contact.pk)
    assert change.created_unsubscriber and inbound.event.state == WebhookEvent.State.PROCESSED
    page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk]))
    assert "Opted out" in page.content.decode() and "ARRET" in page.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
def test_start_removes_a_keyword_opt_out_here_and_at_bics(connected, sandbox):
    number = "+32470000051"
    reply(sandbox, number, "STOP", message_id="in-1")
    assert wait_for(lambda: Unsubscriber.objects.filter(number=number, sync_state="synced").exists())
    reply(sandbox, number, "start", message_id="in-2")
    assert wait_for(lambda: not Unsubscriber.objects.filter(number=number).exists())
    assert number.lstrip("+") not in bics_unsubscribers(sandbox)
    assert list(OptOutChange.objects.order_by("pk").values_list("action", "inbound_message__text")) == [
        ("opt_out", "STOP"), ("opt_in", "start")]


@pytest.mark.django_db
def test_start_never_removes_an_opt_out_entered_by_staff(hook, deliver, shipped_keywords):
    staff = Unsubscriber.objects.create(channel="sms", number="+32470000052", type="all")
    response = deliver({"event": "vmn:message:in", "payload": {"id": "in-3", "from": "32470000052", "text": "START"}})
    assert response.status_code == 200
    assert Unsubscriber.objects.filter(pk=staff.pk).exists()
    change = OptOutChange.objects.get()
    assert change.action == "ignored" and "staff" in change.detail and change.unsubscriber == staff


@pytest.mark.django_db
def test_a_reply_that_is_not_a_keyword_changes_nothing_and_a_replayed_stop_applies_once(hook, deliver, shipped_keywords):
    from messaging.webhooks.services import webhook_event_process

    deliver({"event": "vmn:message:in", "payload": {"id": "in-4", "from": "32470000053", "text": "stop by at 5"}})
    assert not OptOutChange.objects.exists() and not Unsubscriber.objects.exists()
    deliver({"event": "whatsapp:message:in", "payload": {"id": "in-5", "from": "32470000053", "text": "Stopp"}})
    event = WebhookEvent.objects.get(event_type="whatsapp:message:in")
    WebhookEvent.objects.filter(pk=event.pk).update(state="failed")
    webhook_event_process(event_id=event.pk)
    assert OptOutChange.objects.count() == 1
    assert list(Unsubscriber.objects.values_list("channel", "type")) == [("whatsapp", "all")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
def test_a_stop_reply_keeps_queued_campaign_messages_to_the_number_from_being_sent(
        connected, sandbox, make_contacts, make_campaign, make_template):
    make_contacts(4)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=2)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    first, second = campaign.batches.order_by("number")[:2]
    assert engine.batch_send(first.pk) == "sent"
    leaving = second.messages.order_by("pk").first()
    reply(sandbox, leaving.number, "Unsubscribe")
    assert wait_for(lambda: Unsubscriber.objects.filter(channel="sms", number=leaving.number).exists())
    dispatch.campaign_run(campaign.pk, timeout=20)
    sent = [n.lstrip("+") for n in sandbox.sent_numbers()]
    assert leaving.number.lstrip("+") not in sent and len(sent) == 3
    leaving.refresh_from_db()
    assert leaving.status == "failed" and "Opted out" in leaving.error_description
