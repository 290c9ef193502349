"""The engine against the sandbox over HTTP: batching, exactly-once, recovery, DLRs."""

from __future__ import annotations

import pytest

from core import batches
from messaging.campaigns.models import Campaign, DeliveryReport, Message, SendBatch
from messaging.campaigns.services import dispatch, engine
from messaging.campaigns.services.campaigns import campaign_launch
from messaging.campaigns.services.dlr import dlr_poll
from tests.polling import wait_until

from .conftest import no_duplicates

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def run(campaign, timeout=20):
    return dispatch.campaign_run(campaign.pk, timeout=timeout)


def test_identical_text_goes_as_batches_with_to_arrays(sandbox, make_contacts, make_campaign, make_template):
    make_contacts(7)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=3)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    counts = run(campaign)
    assert counts["submitted"] == 7 and counts["queued"] == 0
    assert sandbox.requests("sms.messages.send") == 3  # 3 + 3 + 1
    customs = {item["custom"] for item in sandbox.sent()["items"]}
    assert customs == set(SendBatch.objects.filter(campaign=campaign).values_list("custom", flat=True))
    assert Message.objects.filter(campaign=campaign).exclude(bics_message_id="").count() == 7
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENT


def test_messages_an_answer_leaves_out_are_submitted_too(make_contacts, make_campaign, make_template):
    """BICS's answer names no id for one number: that message is submitted (without an id)
    like the others, in one more statement; a batch whose answer names every one needs none."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging.campaigns.services.send_kind import acknowledgements_record

    make_contacts(6)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=3)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    acks = []
    for index, batch in enumerate(SendBatch.objects.filter(campaign=campaign).order_by("number")):
        messages = dict(Message.objects.filter(batch=batch).order_by("pk").values_list("number", "pk"))
        named = list(messages)[:-1] if index == 0 else list(messages)  # the first answer leaves one out
        items = [{"id": f"bics-{number}", "mobile": number.lstrip("+")} for number in named]
        acks.append((batch.pk, messages, items, f"group-{batch.pk}"))
    with CaptureQueriesContext(connection) as queries:
        acknowledgements_record(acks)
    table = Message._meta.db_table
    fallback = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'UPDATE "{table}" SET "status"')]
    assert len(fallback) == 1 and f'"batch_id" IN ({acks[0][0]})' in fallback[0]  # the first batch only
    messages = Message.objects.filter(campaign=campaign)
    assert set(messages.values_list("status", flat=True)) == {"submitted"}
    assert messages.filter(bics_message_id="").count() == 1


def test_personalised_text_goes_one_request_per_recipient(sandbox, make_contacts, make_campaign, settings):
    settings.CAMPAIGN_CONCURRENCY = 4
    make_contacts(6)
    campaign = make_campaign()
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    run(campaign)
    items = sandbox.sent()["items"]
    assert len(items) == 6 and sandbox.requests("sms.messages.send") == 6
    by_custom = {m.custom_id: m for m in Message.objects.filter(campaign=campaign)}
    assert {item["custom"] for item in items} == set(by_custom)  # the message's custom_id is the custom
    assert all(m.text.startswith(f"Hello {m.contact.first_name},") for m in by_custom.values())


def test_batch_interval_spaces_batches(sandbox, make_contacts, make_campaign, make_template):
    make_contacts(5)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=2,
                             batch_interval=1)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    run(campaign)
    sent = list(SendBatch.objects.filter(campaign=campaign).order_by("number").values_list("sent_at", flat=True))
    assert len(sent) == 3
    gaps = [(b - a).total_seconds() for a, b in zip(sent, sent[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps


def test_running_twice_sends_nothing_more(sandbox, make_contacts, make_campaign):
    make_contacts(3)
    campaign = make_campaign()
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    run(campaign)
    run(campaign)
    for batch_id in SendBatch.objects.values_list("pk", flat=True):
        assert engine.batch_send(batch_id) is None
    assert len(sandbox.sent()["items"]) == 3


def test_worker_killed_after_the_request_left_is_reconciled_not_resent(sandbox, make_contacts, make_campaign,
                                                                       make_template, settings, monkeypatch):
    make_contacts(4)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=2)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    step = dispatch.campaign_step(campaign.pk)
    batch_id, token = step.claims[0].batch_id, step.claims[0].token

    def die(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(batches.engine, "record", die)
    with pytest.raises(SystemExit):
        engine.batch_send(batch_id, token=token)  # BICS took it; the worker died before recording
    monkeypatch.undo()
    assert SendBatch.objects.get(pk=batch_id).state == SendBatch.State.CLAIMED
    settings.CAMPAIGN_CLAIM_TIMEOUT = 0
    assert engine.batches_sweep() >= 1
    assert SendBatch.objects.get(pk=batch_id).state == SendBatch.State.UNKNOWN
    assert engine.batch_reconcile(batch_id) == SendBatch.State.SENT
    settings.CAMPAIGN_CLAIM_TIMEOUT = 600
    for claim in step.claims[1:]:
        engine.batch_send(claim.batch_id, token=claim.token)
    run(campaign)
    assert len(sandbox.sent()["items"]) == 4 and no_duplicates(sandbox)
    assert Message.objects.filter(campaign=campaign, status="submitted").count() == 4


def test_worker_killed_before_sending_is_sent_once_after_reconcile(sandbox, make_contacts, make_campaign,
                                                                   make_template, settings):
    make_contacts(2)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=5)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    claims = dispatch.campaign_step(campaign.pk).claims  # claimed, then the worker vanished
    settings.CAMPAIGN_CLAIM_TIMEOUT = 0
    engine.batches_sweep()
    assert engine.batch_reconcile(claims[0].batch_id) == SendBatch.State.PENDING  # BICS has none of them
    settings.CAMPAIGN_CLAIM_TIMEOUT = 600
    run(campaign)
    assert len(sandbox.sent()["items"]) == 2 and no_duplicates(sandbox)


def test_timeout_after_acceptance_is_reconciled_not_resent(sandbox, make_contacts, make_campaign, make_template,
                                                           settings):
    settings.BICS_READ_TIMEOUT = 0.5
    sandbox.configure(faults=[{"kind": "timeout", "routes": ["sms.messages.send"], "count": 1, "seconds": 1.5}])
    make_contacts(3)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=10)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    step = dispatch.campaign_step(campaign.pk)
    assert engine.batches_send(step.claims) == {"unknown": 1}
    assert Message.objects.filter(campaign=campaign, status="unknown").count() == 3
    # the sandbox accepted the send before its answer came too late
    wait_until(lambda: len(sandbox.sent()["items"]) == 3, what="the timed-out send is at the sandbox")
    run(campaign)
    assert len(sandbox.sent()["items"]) == 3 and no_duplicates(sandbox)
    assert not Message.objects.filter(campaign=campaign, status__in=["queued", "unknown"]).exists()
    assert Message.objects.filter(campaign=campaign).exclude(bics_message_id="").count() == 3
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.SENT


def test_dlr_poll_stays_within_its_get_budget(sandbox, make_contacts, make_campaign, make_template):
    make_contacts(6)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=2)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    run(campaign)
    sandbox.tick(60)
    before = sandbox.requests("sms.messages.dlr")
    counts = dlr_poll(max_gets=2)
    assert counts["gets"] == 2 and sandbox.requests("sms.messages.dlr") - before == 2
    assert Message.objects.filter(campaign=campaign, status="submitted").count() == 2
    dlr_poll(max_gets=10)
    assert not Message.objects.filter(campaign=campaign, status="submitted").exists()
    assert DeliveryReport.objects.filter(message__campaign=campaign).count() == 6


def test_dlr_poll_records_statuses_and_descriptions(sandbox, make_contacts, make_campaign, make_template):
    contacts = make_contacts(2)
    sandbox.configure(dlr_rules={contacts[0].phone.lstrip("+"): "DELIVRD", contacts[1].phone.lstrip("+"): "404"})
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."))
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    run(campaign)
    sandbox.tick(60)
    dlr_poll()
    delivered = Message.objects.get(number=contacts[0].phone)
    failed = Message.objects.get(number=contacts[1].phone)
    assert delivered.status == "delivered" and delivered.delivered_at is not None
    assert failed.status == "rejected" and failed.error_code == "404"
    assert failed.error_description == "Invalid destination number"


def test_opt_out_added_here_after_launch_is_honoured_at_send_time(sandbox, make_contacts, make_campaign, make_template):
    """An opt-out entered in the admin (or imported, or pulled) after launch: the number's
    queued message fails as opted out and never reaches BICS."""
    from messaging.catalogue.models import Unsubscriber

    contacts = make_contacts(4)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=10)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    opted = contacts[1].phone
    Unsubscriber.objects.create(channel="sms", type="all", number=opted)
    run(campaign)
    sent_numbers = {item["number"] for item in sandbox.sent()["items"]}
    assert opted.lstrip("+") not in sent_numbers and opted not in sent_numbers
    assert len(sent_numbers) == 3
    message = Message.objects.get(campaign=campaign, number=opted)
    assert message.status == "failed" and "Opted out" in message.error_description


def test_an_answer_is_recorded_in_a_constant_number_of_statements(sandbox, make_contacts, make_campaign,
                                                                  make_template):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_contacts(5)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=10)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    batch = SendBatch.objects.get(campaign=campaign)
    with CaptureQueriesContext(connection) as queries:
        assert engine.batch_send(batch.pk) == SendBatch.State.SENT
    table = Message._meta.db_table
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'UPDATE "{table}"')]
    assert len(updates) == 1, updates  # ids and statuses in one statement: every message had its id
    messages = Message.objects.filter(campaign=campaign)
    assert set(messages.values_list("status", flat=True)) == {"submitted"}
    by_number = {item["number"]: item["id"] for item in sandbox.sent()["items"]}
    assert {m.number.lstrip("+"): m.bics_message_id for m in messages} == by_number
    assert set(messages.values_list("group_id", flat=True)) == {SendBatch.objects.get(pk=batch.pk).group_id}
