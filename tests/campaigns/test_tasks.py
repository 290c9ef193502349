"""The Celery side: beat tick launches due campaigns; the dispatcher hands claimed batches to
``send_batch`` with their claim token, bounded by the concurrency setting."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import current_app
from django.utils import timezone

from messaging.campaigns import tasks
from messaging.campaigns.models import Campaign, SendBatch
from messaging.campaigns.services.campaigns import campaign_launch, campaign_schedule

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def test_tasks_have_the_routed_names():
    assert tasks.send_batch.name == "messaging.tasks.send_batch"
    assert current_app.amqp.router.route({}, "messaging.tasks.send_batch")["queue"].name == "sends"


def test_beat_tick_launches_a_due_scheduled_campaign(sandbox, make_contacts, make_campaign):
    make_contacts(3)
    campaign = make_campaign()
    campaign_schedule(campaign=campaign, at=timezone.now() + dt.timedelta(minutes=10))
    assert tasks.campaigns_tick()["launched"] == 0
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.campaigns_tick()["launched"] == 1
    assert Campaign.objects.get(pk=campaign.pk).state == "sent"  # eager Celery sends in the tick
    assert len(sandbox.sent_numbers()) == 3


def test_dispatcher_hands_claimed_batches_to_send_batch(sandbox, make_contacts, make_campaign, settings,
                                                        monkeypatch):
    settings.CAMPAIGN_CONCURRENCY = 2
    make_contacts(5)
    campaign = make_campaign()
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    queued = []
    monkeypatch.setattr(tasks.send_batch, "delay", lambda *args: queued.append(args))
    current_app.conf.task_always_eager = False
    try:
        dispatch_and_send(campaign, queued, sandbox)
    finally:
        current_app.conf.task_always_eager = True


def dispatch_and_send(campaign, queued, sandbox):
    tasks.campaign_advance(campaign.pk)
    assert len(queued) == 2  # bounded by the concurrency
    assert SendBatch.objects.filter(campaign=campaign, state="claimed").count() == 2
    batch_id, token = queued[0]
    assert tasks.send_batch(batch_id, token) == "sent"  # the worker's side; it then dispatches the next
    assert len(queued) == 3
    assert tasks.send_batch(batch_id, token) == "not-claimed"  # a redelivered task does nothing
    assert len(sandbox.sent_numbers()) == 1
