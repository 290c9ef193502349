"""A worker killed in the middle of a chunked launch: the preparation is resumed by the beat
from the campaign's cursor while sending goes on, and every recipient is accepted exactly
once at the sandbox (a real ``celery worker`` on a real Redis, the test's file database)."""

from __future__ import annotations

import time

import pytest

from messaging.campaigns.models import Campaign, SendBatch
from messaging.campaigns.services.campaigns import campaign_launch
from tests.reliability.conftest import RECIPIENTS, audience  # noqa: F401 - fixture
from tests.reliability.test_faults import FAULTS, IDENTICAL, assert_exactly_once
from tests.reliability.test_worker_faults import Worker, drive, redis_server, send_task  # noqa: F401 - fixture

pytestmark = [pytest.mark.sandbox, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_worker_killed_mid_chunked_launch_each_recipient_once(sandbox, redis_server, audience,  # noqa: F811
                                                                make_campaign, make_template, tmp_path):
    phones = audience(max(RECIPIENTS // 2, 400))
    campaign = make_campaign(template=make_template(IDENTICAL), batch_size=20)
    campaign_launch(campaign=campaign, now=True, enqueue=False, prepare=False)  # the worker writes it
    sandbox.configure(faults=[{"kind": "latency", "seconds": 0.1, "rate": 1.0, "routes": ["sms.messages.send"]},
                              *FAULTS])
    worker = Worker(redis_server.url, sandbox.server.url, tmp_path / "worker.log")
    # chunks of 40 contacts with a pause between them: the kill lands between or inside chunks
    worker.env.update({"CAMPAIGN_LAUNCH_CHUNK": "40", "CAMPAIGN_LAUNCH_CHUNK_PAUSE": "0.1",
                       "CAMPAIGN_PREPARE_STALE": "2"})
    worker.start()
    killed = []

    def kill_mid_launch():
        if killed:
            return
        row = Campaign.objects.filter(pk=campaign.pk).values_list("preparing", "prepared_count").get()
        sent = SendBatch.objects.filter(campaign=campaign, state="sent").count()
        if row[0] and row[1] >= 80 and sent:  # preparing, two chunks in, sending already started
            worker.kill()
            killed.append(row[1])
            worker.start()

    try:
        send_task(redis_server.url, "messaging.tasks.campaign_prepare", campaign.pk)
        deadline = time.monotonic() + 240
        while not killed and time.monotonic() < deadline:  # a tight poll for the moment to kill
            campaign.refresh_from_db()
            if not campaign.preparing and campaign.prepared_count:
                break
            kill_mid_launch()
            time.sleep(0.02)
        drive(lambda: redis_server.url, campaign, deadline)
    finally:
        worker.kill()
        sandbox.configure(faults=[])
    assert killed, "the preparation finished before the worker could be killed"
    campaign.refresh_from_db()
    assert not campaign.preparing and campaign.audience_size == len(phones) == campaign.audience_total
    assert_exactly_once(sandbox, campaign, phones)
