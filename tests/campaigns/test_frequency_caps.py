"""Frequency caps: at most N promotional campaign messages per contact in a rolling period,
across campaigns and channels; transactional traffic exempt; the preview counts who is left
out, the launch records them with the reason, and two launches at the same moment cannot
both pass the cap (again on PostgreSQL, with two workers)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.campaigns import selectors as sel
from messaging.campaigns.frequency_selectors import traffic_kind
from messaging.campaigns.models import CapCounter, CapExclusion, FrequencyCap, Message, PromotionalSend
from messaging.campaigns.services.campaigns import campaign_launch
from tests.concurrency import on_postgresql, race, run_on_postgresql


@pytest.fixture
def cap(db):
    return FrequencyCap.objects.create(max_messages=1, period_days=7)


def promo(make_campaign, make_template, name, **kw):
    return make_campaign(template=make_template("Spring sale: 20% off everything this week."), name=name,
                         traffic="promotional", **kw)


@pytest.mark.django_db
def test_traffic_kind_comes_from_the_campaign_or_its_template(make_campaign, make_template):
    assert traffic_kind(make_campaign(template=make_template("Sale on now, see you soon.", template_type="P"))) \
        == "promotional"
    assert traffic_kind(make_campaign()) == "transactional"  # SMS service-implicit template
    assert traffic_kind(make_campaign(traffic="promotional")) == "promotional"


@pytest.mark.django_db
def test_the_preview_counts_who_the_cap_leaves_out_and_the_launch_records_them(cap, make_contacts, make_campaign,
                                                                                make_template):
    first_three = make_contacts(3)
    campaign_launch(campaign=promo(make_campaign, make_template, "First"), now=True, enqueue=False)
    make_contacts(1)
    second = promo(make_campaign, make_template, "Second")
    plan = sel.audience_plan(second)
    assert (plan.frequency_capped, plan.eligible, plan.exclusions["frequency_cap"]) == (3, 1, 3)
    campaign_launch(campaign=second, now=True, enqueue=False)
    second.refresh_from_db()
    assert second.audience_size == 1 and second.exclusions["frequency_cap"] == 3
    left_out = CapExclusion.objects.filter(campaign=second)
    assert sorted(left_out.values_list("contact_id", flat=True)) == [c.pk for c in first_three]
    assert all("Frequency cap: 1 promotional messages in 7 days" in e.reason for e in left_out)


@pytest.mark.django_db
def test_transactional_traffic_is_exempt_and_old_sends_leave_the_rolling_period(cap, make_contacts, make_campaign,
                                                                                 make_template):
    make_contacts(2)
    first = promo(make_campaign, make_template, "First")
    campaign_launch(campaign=first, now=True, enqueue=False)
    service = make_campaign(name="Appointment reminders")  # transactional template
    assert sel.audience_plan(service).frequency_capped == 0
    assert campaign_launch(campaign=service, now=True, enqueue=False).audience_size == 2
    PromotionalSend.objects.filter(campaign=first).update(at=timezone.now() - timedelta(days=7, minutes=1))
    later = promo(make_campaign, make_template, "Later")
    assert sel.audience_plan(later).frequency_capped == 0
    assert campaign_launch(campaign=later, now=True, enqueue=False).audience_size == 2


@pytest.mark.django_db(transaction=True)
def test_two_campaigns_launched_at_the_same_moment_cannot_both_pass_the_cap(cap, make_contacts, make_campaign,
                                                                            make_template):
    from contacts.models import Contact, Tag

    make_contacts(1)  # the audience tag
    tag = Tag.objects.get(name="audience")
    Contact.objects.bulk_create([Contact(phone=f"+3248{i:07d}", country="BE", first_name="Bo") for i in range(1500)])
    Contact.tags.through.objects.bulk_create([Contact.tags.through(contact_id=pk, tag_id=tag.pk)
                                              for pk in Contact.objects.exclude(tags=tag).values_list("pk", flat=True)])
    contacts = list(Contact.objects.all())  # enough that the two launches' reservations overlap
    # Contacts that had promotional traffic before: their lock rows exist, so only the lock
    # (not the insert of a new row) keeps the two launches apart.
    CapCounter.objects.bulk_create([CapCounter(contact_id=c.pk) for c in contacts])
    campaigns = [promo(make_campaign, make_template, f"Race {i}") for i in range(2)]
    lock, queue = threading.Lock(), list(campaigns)

    def launch():
        with lock:
            campaign = queue.pop()
        return [campaign_launch(campaign=campaign, now=True, enqueue=False).audience_size]

    written = race(launch, threads=2)
    assert sum(written) == len(contacts)
    per_contact = Message.objects.filter(campaign__in=campaigns).values_list("contact_id", flat=True)
    assert sorted(per_contact) == sorted(c.pk for c in contacts)
    assert CapExclusion.objects.count() == len(contacts)  # each contact left out by exactly one launch


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db
def test_the_cap_on_postgresql():
    if on_postgresql():
        return
    run_on_postgresql(["tests/campaigns/test_frequency_caps.py"], name="frequency_caps")
