"""Campaign life cycle: scheduling limits, pause/resume/cancel, smart delivery, exclusions,
usability, cost, status updates."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from messaging.campaigns.models import Campaign, CampaignTransition, Message, SendBatch
from messaging.campaigns.services import dispatch, engine
from messaging.campaigns.services.campaigns import (
    CampaignAlreadyLaunched,
    CampaignError,
    campaign_cancel,
    campaign_launch,
    campaign_pause,
    campaign_preview,
    campaign_resume,
    campaign_schedule,
)
from messaging.campaigns.services.dlr import dlr_record, message_apply_status
from messaging.catalogue.models import AccountBalance, Price, Unsubscriber

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- scheduling
def test_schedule_in_the_past_is_refused(make_contacts, make_campaign):
    campaign = make_campaign()
    with pytest.raises(CampaignError, match="past"):
        campaign_schedule(campaign=campaign, at=NOW - dt.timedelta(minutes=1), now=NOW)


def test_schedule_more_than_30_days_ahead_is_refused(make_campaign):
    campaign = make_campaign()
    with pytest.raises(CampaignError, match="30 days"):
        campaign_schedule(campaign=campaign, at=NOW + dt.timedelta(days=30, minutes=1), now=NOW)
    campaign_schedule(campaign=campaign, at=NOW + dt.timedelta(days=30), now=NOW)
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.SCHEDULED


def test_naive_schedule_is_read_in_the_users_time_zone(make_campaign):
    campaign = make_campaign(time_zone="Asia/Kolkata")
    campaign_schedule(campaign=campaign, at=dt.datetime(2026, 6, 2, 9, 0), now=NOW)
    campaign.refresh_from_db()
    assert campaign.scheduled_at == dt.datetime(2026, 6, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Kolkata"))


def test_cancel_within_5_minutes_of_the_start_is_refused(make_campaign):
    campaign = make_campaign()
    campaign_schedule(campaign=campaign, at=NOW + dt.timedelta(minutes=4), now=NOW)
    with pytest.raises(CampaignError, match="5 minutes"):
        campaign_cancel(campaign=campaign, now=NOW)
    assert campaign_cancel(campaign=campaign, now=NOW - dt.timedelta(minutes=2))


def test_every_transition_is_recorded_with_who_and_when(make_campaign, owner):
    campaign = make_campaign()
    campaign_schedule(campaign=campaign, at=timezone.now() + dt.timedelta(hours=1), user=owner)
    campaign_pause(campaign=campaign, user=owner)
    rows = list(CampaignTransition.objects.filter(campaign=campaign).values_list("from_state", "to_state", "by"))
    assert rows == [("draft", "scheduled", owner.pk), ("scheduled", "paused", owner.pk)]


def test_due_scheduled_campaigns_are_found(make_contacts, make_campaign):
    make_contacts(1)
    campaign = make_campaign()
    campaign_schedule(campaign=campaign, at=timezone.now() + dt.timedelta(minutes=10))
    assert dispatch.campaigns_due() == []
    assert dispatch.campaigns_due(now=timezone.now() + dt.timedelta(minutes=11)) == [campaign.pk]


# --------------------------------------------------------------------------- launch checks
def test_launching_a_sent_campaign_changes_nothing(make_campaign):
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(state="sent")
    with pytest.raises(CampaignAlreadyLaunched, match="nothing changed"):
        campaign_launch(campaign=campaign, now=True, enqueue=False)


def test_unsubscribers_are_excluded_within_their_scope(make_contacts, make_campaign, sender):
    c = make_contacts(7)
    from contacts.models import Tag

    c[5].tags.add(Tag.objects.create(name="newsletter"))
    for contact, kind, value in [(c[0], "all", ""), (c[1], "sender", sender.name), (c[2], "sender", "OTHER"),
                                 (c[3], "product", sender.service), (c[4], "product", "MKT"),
                                 (c[5], "tag", "newsletter")]:
        Unsubscriber.objects.create(channel="sms", number=contact.phone, type=kind, value=value)
    Unsubscriber.objects.create(channel="whatsapp", number=c[6].phone, type="all")  # another channel
    campaign = make_campaign()
    preview = campaign_preview(campaign)
    assert preview.plan.unsubscribed == 4 and preview.plan.eligible == 3
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert set(Message.objects.values_list("number", flat=True)) == {c[2].phone, c[4].phone, c[6].phone}


def test_invalid_duplicates_and_missing_variables_are_excluded(make_contacts, make_campaign, make_template):
    from contacts.models import Contact, Segment, Tag

    make_contacts(3)
    Contact.objects.filter(pk=Contact.objects.first().pk).update(phone="+12")  # invalid
    nameless = make_contacts(1)[0]
    Contact.objects.filter(pk=nameless.pk).update(first_name="")
    segment = Segment.objects.create(name="all audience")
    segment.positive_tags.add(Tag.objects.get(name="audience"))
    campaign = make_campaign(template=make_template("Hello {{first_name}}, our shop opens on Monday."))
    campaign.segments.add(segment)  # the same contacts through a segment and a tag
    plan = campaign_preview(campaign).plan
    assert (plan.total, plan.invalid, plan.duplicates, plan.missing_variables, plan.eligible) == (4, 1, 4, 1, 2)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert Message.objects.count() == 2
    assert len(set(Message.objects.values_list("custom_id", flat=True))) == 2


def test_variable_default_is_used_when_the_value_is_missing(make_contacts, make_campaign, make_template):
    from contacts.models import Contact

    Contact.objects.filter(pk=make_contacts(1)[0].pk).update(first_name="")
    campaign = make_campaign(template=make_template("Hello {{first_name}}, our shop opens on Monday."),
                             variable_mapping={"first_name": {"field": "first_name", "default": "friend"}})
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert Message.objects.get().text == "Hello friend, our shop opens on Monday."


def test_cost_above_the_balance_blocks_the_launch(make_contacts, make_campaign):
    make_contacts(10)
    Price.objects.create(channel="sms", iso="BE", service="ENT", price=Decimal("0.05"), currency="EUR",
                         fetched_at=timezone.now())
    AccountBalance.objects.create(balance=Decimal("0.30"), currency="EUR", fetched_at=timezone.now())
    campaign = make_campaign()
    preview = campaign_preview(campaign)
    assert preview.estimate.total == Decimal("0.50")
    with pytest.raises(CampaignError, match="exceeds the account balance"):
        campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert not Message.objects.exists() and Campaign.objects.get(pk=campaign.pk).state == "draft"


def test_an_unusable_template_cannot_launch(make_contacts, make_campaign, make_template):
    make_contacts(1)
    campaign = make_campaign(template=make_template(usable=False))
    with pytest.raises(CampaignError, match="Not approved here"):
        campaign_launch(campaign=campaign, now=True, enqueue=False)


# --------------------------------------------------------------------------- status updates
def test_status_never_moves_backwards(make_contacts, make_campaign):
    make_contacts(1)
    campaign = make_campaign()
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    message = Message.objects.get()
    assert message_apply_status(message=message, status="submitted")
    assert message_apply_status(message=message, status="delivered")
    assert not message_apply_status(message=message, status="failed")
    assert not message_apply_status(message=message, status="submitted")
    report = dlr_record(channel="sms", item={"custom": message.custom_id, "cid": "bics-1", "mobile": message.number[1:],
                                             "status": "UNDELIV", "code": "034"})
    assert report.message_id == message.pk and not report.applied
    assert message_apply_status(message=message, status="read")
    assert Message.objects.get().status == "read"


def test_dlr_record_finds_a_batched_message_by_batch_custom_and_number(make_contacts, make_campaign, make_template):
    make_contacts(3)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."))
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    message = Message.objects.order_by("pk")[1]
    report = dlr_record(channel="sms", item={"custom": message.batch.custom, "cid": "bics-2",
                                             "mobile": message.number.lstrip("+"),
                                             "status": "DLT-REJECTED", "code": "777", "id": "g:2"})
    message.refresh_from_db()
    assert report.applied and message.status == "rejected" and message.bics_message_id == "g:2"
    assert message.error_description == "Invalid sender ID or invalid template"


# --------------------------------------------------------------------------- pause / resume / cancel
@pytest.mark.sandbox
def test_pause_resume_and_cancel_take_effect_between_batches(sandbox, make_contacts, make_campaign, make_template,
                                                             settings):
    settings.CAMPAIGN_CONCURRENCY = 1
    make_contacts(6)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), batch_size=2)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    engine.batches_send(dispatch.campaign_step(campaign.pk).claims)  # first batch
    campaign_pause(campaign=campaign)
    step = dispatch.campaign_step(campaign.pk)
    assert not step.claims and step.wait is None
    assert len(sandbox.sent_numbers()) == 2
    campaign_resume(campaign=campaign)
    engine.batches_send(dispatch.campaign_step(campaign.pk).claims)  # second batch
    assert len(sandbox.sent_numbers()) == 4
    campaign_cancel(campaign=campaign)
    dispatch.campaign_run(campaign.pk, timeout=5)
    assert len(sandbox.sent_numbers()) == 4
    assert SendBatch.objects.filter(campaign=campaign, state="cancelled").count() == 1
    assert Message.objects.filter(campaign=campaign, status="failed").count() == 2


@pytest.mark.sandbox
def test_a_template_unusable_at_send_time_is_refused_and_pauses(sandbox, make_contacts, make_campaign):
    from messaging.catalogue.models import Template

    make_contacts(2)
    campaign = make_campaign()
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    Template.objects.filter(pk=campaign.template_id).update(provider_status="2")  # the provider withdrew it
    dispatch.campaign_run(campaign.pk, timeout=5)
    campaign.refresh_from_db()
    assert campaign.state == "paused" and "Refused at send time" in campaign.state_reason
    assert sandbox.sent_numbers() == []


def test_editing_the_template_pauses_its_campaigns(make_contacts, make_campaign, owner,
                                                   django_capture_on_commit_callbacks):
    from messaging.catalogue.services.templates import template_save

    make_contacts(2)
    campaign = make_campaign()
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    template = campaign.template
    template.content = "Hello {{first_name}}, our shop opens on Tuesday."
    with django_capture_on_commit_callbacks(execute=True):
        template_save(template=template, user=owner, changed_fields=["content"])
    campaign.refresh_from_db()
    assert campaign.state == "paused" and "edited" in campaign.state_reason
    with pytest.raises(CampaignError, match="Not approved here"):
        campaign_resume(campaign=campaign)


# --------------------------------------------------------------------------- smart delivery
@pytest.mark.sandbox
def test_smart_delivery_with_a_clean_sample_sends_to_everyone(sandbox, make_contacts, make_campaign, make_template):
    sandbox.configure(dlr_delay=0.2, dlr_ratios={"delivered": 1.0})
    make_contacts(15)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), smart_delivery=True,
                             smart_delay_minutes=0, smart_sample_size=10, batch_size=100)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert Campaign.objects.get(pk=campaign.pk).state == "sampling"
    dispatch.campaign_run(campaign.pk, timeout=20, poll_every=0.3)
    campaign.refresh_from_db()
    assert campaign.state == "sent"
    assert len(sandbox.sent_numbers()) == 15 and Message.objects.filter(is_sample=True).count() == 10
    states = list(CampaignTransition.objects.filter(campaign=campaign).values_list("to_state", flat=True))
    assert states == ["sampling", "sending", "sent"]


@pytest.mark.sandbox
def test_smart_delivery_cancels_on_a_dlt_rejection_and_notifies_the_owner(sandbox, make_contacts, make_campaign,
                                                                         make_template):
    contacts = make_contacts(15)
    sandbox.configure(dlr_delay=0.2, dlr_rules={c.phone.lstrip("+"): "INV-PEID" for c in contacts})
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), smart_delivery=True,
                             smart_delay_minutes=0, smart_sample_size=10)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    dispatch.campaign_run(campaign.pk, timeout=20, poll_every=0.3)
    campaign.refresh_from_db()
    assert campaign.state == "cancelled" and "INV-PEID" in campaign.state_reason
    sample = set(Message.objects.filter(is_sample=True).values_list("number", flat=True))
    assert set("+" + n for n in sandbox.sent_numbers()) == sample  # nobody else messaged
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@example.com"]
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.filter(object_id=str(campaign.pk), change_message__contains="smart delivery").exists()


def test_smart_delivery_waits_15_minutes_before_the_sample(make_contacts, make_campaign, make_template):
    make_contacts(3)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."), smart_delivery=True)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    step = dispatch.campaign_step(campaign.pk)
    assert not step.claims and 14 * 60 < step.wait <= 15 * 60


# --------------------------------------------------------------------------- uploaded list
def test_an_uploaded_list_joins_the_audience_with_the_same_exclusions(make_contacts, make_campaign, make_template,
                                                                       sender, settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = str(tmp_path)
    contact = make_contacts(1, attributes={"city": "Leuven"})[0]
    Unsubscriber.objects.create(channel="sms", number="+32470555003", type="sender", value=sender.name)
    csv_text = ("Phone,First_Name,City\n"
                "+32470555001,Bob,Gent\n"
                f"{contact.phone},Dup,Gent\n"       # already a recipient through the tag
                "+32470555001,Bob again,Gent\n"     # twice in the file
                "not a number,X,Gent\n"             # invalid
                "+32470555003,Opted,Gent\n"         # opted out for this sender
                "+32470555004,,Gent\n")             # missing first_name
    campaign = make_campaign(template=make_template("Hello {{first_name}}, see you in {{city}} on Monday."))
    campaign.upload.save("list.csv", ContentFile(csv_text.encode()))
    plan = campaign_preview(campaign).plan
    assert (plan.eligible, plan.duplicates, plan.invalid, plan.unsubscribed, plan.missing_variables) == (2, 2, 1, 1, 1)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    texts = dict(Message.objects.values_list("number", "text"))
    assert set(texts) == {contact.phone, "+32470555001"}
    assert texts["+32470555001"] == "Hello Bob, see you in Gent on Monday."


def test_an_uploaded_list_with_identical_text_fills_its_own_batches_in_order(make_contacts, make_campaign,
                                                                             make_template, settings, tmp_path):
    """Identical text: the list's recipients go in batches of ``batch_size`` after those of the
    audience, each message in the batch of its position."""
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = str(tmp_path)
    make_contacts(3)
    numbers = [f"+3247055510{i}" for i in range(5)]
    campaign = make_campaign(template=make_template("Spring sale: 20% off on Monday."), batch_size=2)
    campaign.upload.save("list.csv", ContentFile(("Phone\n" + "".join(f"{n}\n" for n in numbers)).encode()))
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    batches = list(SendBatch.objects.filter(campaign=campaign, is_sample=False).order_by("number")
                   .values_list("pk", "number", "size"))
    assert [(number, size) for _pk, number, size in batches][-3:] == [(3, 2), (4, 2), (5, 1)]  # after the audience's 2
    number_of = {pk: number for pk, number, _size in batches}
    listed = Message.objects.filter(campaign=campaign, number__in=numbers).order_by("pk")
    assert [(m.number, number_of[m.batch_id]) for m in listed] == list(zip(numbers, [3, 3, 4, 4, 5], strict=True))

