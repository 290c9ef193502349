"""DLR polling: SMS sends without a group are polled by ``cid``; a WhatsApp/Viber report
pulled by number is applied only when it is the message's; messages that never get a final
report stop being polled after an age limit (``unreported``, shown to staff); the least
recently polled go first, so old messages do not use up the GET budget."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.campaigns.models import Message
from messaging.campaigns.services.campaigns import one_off_send
from messaging.campaigns.services.dlr import dlr_poll
from tests import sandbox_helpers as box

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]
NUMBER = "+32470111222"


def test_sms_without_a_group_id_is_polled_by_cid(sandbox, sender):
    from messaging.campaigns.services import engine

    sandbox.configure(dlr_delay=0.2, dlr_ratios={"delivered": 1.0})
    box.drop_answer(sandbox.server, "sms.messages.send")  # BICS takes it, the answer (and group) is lost
    message = one_off_send(channel="sms", number=NUMBER, text="Your parcel ships today.", sender=sender)
    assert message.status == "unknown"
    engine.batches_reconcile()  # found by cid: submitted, and the DLR items carry no group_id
    message.refresh_from_db()
    assert message.status == "submitted" and message.group_id == ""
    sandbox.tick(60)
    before = box.request_counts(sandbox.server).get("sms.messages.dlr", 0)
    dlr_poll()
    message.refresh_from_db()
    assert message.status == "delivered"
    assert box.request_counts(sandbox.server)["sms.messages.dlr"] == before + 1


def _ours(channel="whatsapp", *, submitted_ago: dt.timedelta, bics_id="", polled=None) -> Message:
    return Message.objects.create(channel=channel, number=NUMBER, custom_id=f"o{uuid.uuid4().hex[:20]}",
                                  status="submitted", submitted_at=timezone.now() - submitted_ago,
                                  bics_message_id=bics_id, dlr_polled_at=polled)


def _someone_sends_whatsapp(sandbox, number=NUMBER) -> None:
    """A message to the same number sent outside the product (the BICS portal)."""
    response = box.api(sandbox.server, "whatsapp.messages.send",
                       json={"channels": [{"channel": "whatsapp"}], "recipient": {"mobile": number.lstrip("+")},
                             "message": {"text": "Portal hello"}})
    assert response.status_code < 300, response.text


def test_a_whatsapp_report_of_another_message_is_not_applied(sandbox):
    sandbox.configure(dlr_delay=0.2, dlr_ratios={"failed": 1.0})
    ours = _ours(submitted_ago=dt.timedelta(hours=1))
    _someone_sends_whatsapp(sandbox)
    sandbox.tick(60)
    dlr_poll()
    ours.refresh_from_db()
    assert ours.status == "submitted" and ours.bics_message_id == ""
    assert box.request_counts(sandbox.server).get("whatsapp.messages.dlr", 0) == 1


def test_a_whatsapp_report_in_the_window_of_the_only_candidate_is_applied(sandbox):
    sandbox.configure(dlr_delay=0.2, dlr_ratios={"delivered": 1.0})
    ours = _ours(submitted_ago=dt.timedelta(seconds=0))
    _someone_sends_whatsapp(sandbox)  # stands for our send whose answer was lost
    sandbox.tick(60)
    dlr_poll()
    ours.refresh_from_db()
    assert ours.status == "delivered" and ours.bics_message_id


def test_two_candidates_for_one_report_apply_nothing(sandbox):
    sandbox.configure(dlr_delay=0.2, dlr_ratios={"delivered": 1.0})
    first, second = _ours(submitted_ago=dt.timedelta(seconds=5)), _ours(submitted_ago=dt.timedelta(seconds=0))
    _someone_sends_whatsapp(sandbox)
    sandbox.tick(60)
    dlr_poll()
    assert set(Message.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        "submitted"}


def test_messages_past_the_age_limit_become_unreported(sandbox, settings, make_campaign, admin_client):
    settings.CAMPAIGN_DLR_MAX_AGE_HOURS = 48
    campaign = make_campaign()
    old = _ours("sms", submitted_ago=dt.timedelta(hours=49))
    young = _ours("sms", submitted_ago=dt.timedelta(hours=47))
    Message.objects.filter(pk__in=[old.pk, young.pk]).update(campaign=campaign)
    counts = dlr_poll()
    assert counts["unreported"] == 1
    old.refresh_from_db()
    assert old.status == "unreported" and "48 hours" in old.error_description
    assert Message.objects.get(pk=young.pk).status == "submitted"
    page = admin_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert 'data-status="unreported">1<' in page
    listing = admin_client.get(reverse("admin:campaigns_message_changelist"), {"status": "unreported"})
    assert "No final report" in listing.content.decode()
    assert listing.context["cl"].result_count == 1


def test_a_report_after_giving_up_still_counts(sandbox, settings):
    from messaging.campaigns.services.dlr import message_apply_status

    message = _ours("sms", submitted_ago=dt.timedelta(hours=100))
    dlr_poll()
    assert message_apply_status(message=message.pk, status="delivered")
    assert Message.objects.get(pk=message.pk).status == "delivered"


def test_polling_takes_the_least_recently_polled_first(sandbox):
    old = _ours(submitted_ago=dt.timedelta(hours=2), bics_id="wa-old", polled=timezone.now() - dt.timedelta(minutes=1))
    new = _ours(submitted_ago=dt.timedelta(minutes=1), bics_id="wa-new")
    dlr_poll(max_gets=1)
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.dlr_polled_at is not None and old.dlr_polled_at < new.dlr_polled_at
    first_round = new.dlr_polled_at
    dlr_poll(max_gets=1)  # the next poll takes the other one: nobody is starved
    old.refresh_from_db()
    assert old.dlr_polled_at > first_round
    assert Message.objects.get(pk=new.pk).dlr_polled_at == first_round
