"""End to end over real HTTP: "Connect this back-office" against the sandbox, which then
sends its signed callbacks (Bearer secret + Signature keyed by the webhook id) to our live
server; the events land, are stored and processed (Celery eager in tests)."""

from __future__ import annotations

import time

import pytest
import requests

from core import sync
from messaging.campaigns.models import Message
from messaging.campaigns.services import dispatch, engine
from messaging.campaigns.services.campaigns import campaign_launch
from messaging.catalogue.models import Unsubscriber
from messaging.webhooks.connect import HANDLED_EVENTS, webhook_connect
from messaging.webhooks.models import Subscription, Webhook, WebhookEvent
from tests.conftest import SANDBOX_TOKEN

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox]


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def connected(sandbox, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    result = webhook_connect()
    sandbox.get("webhooks")  # reachable
    requests.post(sandbox.root + "wait", json={}, timeout=15)
    return result


def emit(sandbox, event, payload):
    resp = requests.post(sandbox.root + f"event?token={SANDBOX_TOKEN}", json={"event": event, "payload": payload},
                         timeout=5)
    resp.raise_for_status()
    assert resp.json()["queued"] == 1
    requests.post(sandbox.root + "wait", json={}, timeout=15)


def test_connect_creates_the_webhook_answers_the_handshake_and_subscribes_every_event(connected, sandbox):
    hook = Webhook.objects.get()
    assert hook.bics_id and hook.secret == connected.secret and hook.uri.endswith(f"/webhooks/bics/{hook.slug}/")
    assert wait_for(lambda: Webhook.objects.get().verified_at is not None)
    log = sandbox.get("webhooks")["items"]
    assert any(e["event"] == "handshake" and e["ok"] for e in log)
    assert sorted(Subscription.objects.filter(webhook=hook).values_list("event", flat=True)) == sorted(HANDLED_EVENTS)
    assert not Subscription.objects.exclude(sync_state="synced").exists()


def test_connect_twice_repairs_with_a_fresh_secret_and_no_duplicate_subscription(connected, sandbox):
    again = webhook_connect()
    assert again.secret != connected.secret and not again.created and again.subscribed == []
    assert Webhook.objects.count() == 1 and Subscription.objects.count() == len(HANDLED_EVENTS)
    emit(sandbox, "sms:unsubscription", {"id": "u-9", "receiver": "32470000077", "type": "all", "value": ""})
    assert wait_for(lambda: Unsubscriber.objects.filter(number="+32470000077").exists())


def test_signed_callbacks_land_and_are_processed(connected, sandbox):
    Message.objects.create(channel="sms", number="+32470000001", custom_id="c-1", status="submitted",
                           bics_message_id="m-1")
    emit(sandbox, "sms:message:status", {"id": "m-1", "mobile": "32470000001", "status": "DELIVRD", "cid": "c-1"})
    emit(sandbox, "contacts:subscriber:subscription", {"id": "ct-1", "phone": "+32470000002", "first_name": "Bo"})
    emit(sandbox, "viber:message:in", {"id": "in-1", "from": "32470000002", "text": "hi"})
    assert wait_for(lambda: WebhookEvent.objects.filter(state="processed").count() == 3)
    assert Message.objects.get(custom_id="c-1").status == "delivered"
    log = [e for e in sandbox.get("webhooks")["items"] if e["event"] != "handshake"]
    assert log and all(e["ok"] and e["status"] == 200 for e in log)


def test_an_opt_out_between_two_batches_excludes_the_number_from_the_next(connected, sandbox, make_contacts,
                                                                           make_campaign, make_template):
    make_contacts(4)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=2)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    first, second = campaign.batches.order_by("number")[:2]
    assert engine.batch_send(first.pk) == "sent"
    leaving = second.messages.order_by("pk").first()
    requests.post(sandbox.root + f"optout?token={SANDBOX_TOKEN}", json={"product": "sms", "number": leaving.number},
                  timeout=5).raise_for_status()
    requests.post(sandbox.root + "wait", json={}, timeout=15)
    assert wait_for(lambda: Unsubscriber.objects.filter(channel="sms", number=leaving.number).exists())
    dispatch.campaign_run(campaign.pk, timeout=20)
    sent = sandbox.sent_numbers()
    assert leaving.number.lstrip("+") not in [n.lstrip("+") for n in sent]
    assert len(sent) == 3
    leaving.refresh_from_db()
    assert leaving.status == "failed" and "Opted out" in leaving.error_description


def test_bics_sync_pushes_and_pulls_webhooks_and_subscriptions(sandbox, settings):
    hook = Webhook.objects.create(name="Pushed", uri="http://127.0.0.1:9/hook/", secret="x" * 20, token="t")
    Subscription.objects.create(webhook=hook, event="sms:message:status")
    assert sync.run("webhooks", "push").ok
    assert sync.run("subscriptions", "push").ok
    hook.refresh_from_db()
    assert hook.bics_id and Subscription.objects.get().bics_id
    Webhook.objects.all().delete()
    pulled = sync.run("webhooks", "pull")
    assert pulled.ok and len(pulled.created) == 1
    subs = sync.run("subscriptions", "pull")
    assert subs.ok and Subscription.objects.get().event == "sms:message:status"
