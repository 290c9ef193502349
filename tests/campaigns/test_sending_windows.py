"""Sending windows in the recipient's local time: the rules (hours, weekdays, skipped dates,
several zones), a campaign across two time zones where one window is closed (through the
sandbox: only the open country is sent to, the other waits and goes when its window opens),
the campaign page's "waiting" line and the preview's now/later counts and warnings."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.campaigns.models import BatchWindow, Message, SendingWindow
from messaging.campaigns.services import dispatch
from messaging.campaigns.services.campaigns import campaign_launch, campaign_preview
from messaging.campaigns.windows import Rule, Windows, place_of

PARIS, NEW_YORK = "Europe/Paris", "America/New_York"
DAYTIME = Rule(time(8), time(21), "012345", frozenset())


def at(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def test_hours_weekdays_and_skipped_dates_in_the_local_zone():
    sunday = at(PARIS, 2026, 12, 6, 10, 0)
    assert not Windows.open_in(DAYTIME, PARIS, sunday)
    assert Windows.opening_in(DAYTIME, PARIS, sunday) == at(PARIS, 2026, 12, 7, 8, 0)
    assert Windows.open_in(DAYTIME, PARIS, at(PARIS, 2026, 12, 7, 20, 59))
    assert not Windows.open_in(DAYTIME, PARIS, at(PARIS, 2026, 12, 7, 21, 0))
    holiday = Rule(time(8), time(21), "012345", frozenset({datetime(2026, 12, 25).date()}))
    assert Windows.opening_in(holiday, PARIS, at(PARIS, 2026, 12, 24, 22, 0)) == at(PARIS, 2026, 12, 26, 8, 0)
    night = Rule(time(22), time(2), "0123456", frozenset())  # past midnight
    assert Windows.open_in(night, PARIS, at(PARIS, 2026, 12, 8, 1, 30))


@pytest.mark.django_db
def test_a_number_with_several_zones_waits_until_the_window_is_open_in_all():
    windows = Windows()
    moment = at(PARIS, 2026, 12, 7, 7, 30)  # 07:30 in Paris, 06:30 UTC
    opening = windows.next_opening(DAYTIME, f"{PARIS}|Europe/London", moment)
    assert opening == at("Europe/London", 2026, 12, 7, 8, 0)
    assert place_of("+33612345678") == ("FR", PARIS) and place_of("+12125550101") == ("US", NEW_YORK)


def window_around_now(zone: str, *, open_now: bool) -> dict:
    """Hours that are open (or closed) right now in ``zone``, every day."""
    local = timezone.now().astimezone(ZoneInfo(zone))
    start = local - timedelta(hours=1) if open_now else local + timedelta(hours=3)
    return {"opens": start.time().replace(second=0, microsecond=0),
            "closes": (start + timedelta(hours=2 if not open_now else 3)).time().replace(second=0, microsecond=0),
            "weekdays": "0123456"}


@pytest.fixture
def two_countries(db, make_contacts):
    from contacts.models import Contact, Tag

    belgians = make_contacts(2)
    tag = Tag.objects.get(name="audience")
    americans = [Contact.objects.create(phone=f"+1212555010{i}", country="US", first_name="Al") for i in range(2)]
    for contact in americans:
        contact.tags.add(tag)
    SendingWindow.objects.update(active=False)
    for country, zone, open_now in (("BE", "Europe/Brussels", True), ("US", NEW_YORK, False)):
        SendingWindow.objects.update_or_create(country=country, traffic="promotional",
                                               defaults={**window_around_now(zone, open_now=open_now), "active": True})
    return belgians, americans


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
def test_a_campaign_across_two_time_zones_sends_only_where_the_window_is_open(
        sandbox, two_countries, make_campaign, make_template, admin_client):
    belgians, americans = two_countries
    campaign = make_campaign(template=make_template("Spring sale: 20% off everything this week."),
                             traffic="promotional")
    lines = " ".join(campaign_preview(campaign).warnings)
    assert "2 recipient(s) go at the start, 2 later" in lines
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert campaign.batches.count() == 2  # one batch per window, identical text in each
    dispatch.campaign_run(campaign.pk, timeout=3, poll_every=0.5)
    sent = {n.lstrip("+") for n in sandbox.sent_numbers()}
    assert sent == {c.phone.lstrip("+") for c in belgians}
    waiting = BatchWindow.objects.get(country="US")
    assert waiting.opens_at > timezone.now() + timedelta(hours=2)
    page = admin_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Waiting for the sending window in 1 country" in page

    BatchWindow.objects.filter(pk=waiting.pk).update(opens_at=timezone.now() - timedelta(seconds=1))
    dispatch.campaign_run(campaign.pk, timeout=3, poll_every=0.5)  # due, but the window is still closed
    assert {n.lstrip("+") for n in sandbox.sent_numbers()} == sent
    assert BatchWindow.objects.get(pk=waiting.pk).opens_at > timezone.now()

    SendingWindow.objects.filter(country="US").update(**window_around_now(NEW_YORK, open_now=True))
    BatchWindow.objects.filter(pk=waiting.pk).update(opens_at=timezone.now() - timedelta(seconds=1))
    dispatch.campaign_run(campaign.pk, timeout=20)
    assert len(sandbox.sent_numbers()) == 4
    assert not Message.objects.filter(campaign=campaign, status="queued").exists()


@pytest.mark.django_db
def test_the_preview_warns_past_the_schedule_limit_and_when_no_window_opens(settings, two_countries, make_campaign,
                                                                            make_template):
    settings.CAMPAIGN_MAX_SCHEDULE_DAYS = 0
    campaign = make_campaign(template=make_template("Spring sale: 20% off everything this week."),
                             traffic="promotional")
    assert any("past the 0-day schedule limit" in w for w in campaign_preview(campaign).warnings)
    SendingWindow.objects.filter(country="US").update(weekdays="")
    assert any("2 recipient(s) have no sending window" in w for w in campaign_preview(campaign).warnings)


@pytest.mark.django_db
def test_shipped_windows_are_labelled_defaults_and_switched_off():
    shipped = SendingWindow.objects.filter(shipped=True)
    assert shipped.filter(country="", traffic="promotional").exists() and not shipped.filter(active=True).exists()
    assert not Windows().restricts("promotional")


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db
def test_sending_windows_on_postgresql():
    """The claim's NOT IN (waiting batches) next to ``SELECT … FOR UPDATE SKIP LOCKED``."""
    from tests.concurrency import on_postgresql, run_on_postgresql

    if on_postgresql():
        return
    run_on_postgresql(["tests/campaigns/test_sending_windows.py"], name="sending_windows")


# --------------------------------------------------------------------------- the campaign's validity
def us_messages(campaign):
    return Message.objects.filter(campaign=campaign, number__startswith="+1")


@pytest.mark.django_db
def test_the_preview_warns_when_a_window_opens_after_the_campaigns_validity(two_countries, make_campaign,
                                                                            make_template):
    campaign = make_campaign(template=make_template("Spring sale: 20% off everything this week."),
                             traffic="promotional", validity_hours=1)  # the US window opens in about 3 hours
    lines = " ".join(campaign_preview(campaign).warnings)
    assert "2 recipient(s) wait for a sending window that opens after the campaign's validity (1 h" in lines
    campaign.validity_hours = 5
    assert "validity" not in " ".join(campaign_preview(campaign).warnings)


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
def test_recipients_whose_window_opens_after_the_validity_are_not_sent_to(sandbox, two_countries, make_campaign,
                                                                          make_template):
    from messaging.campaigns.services.windows import PAST_VALIDITY

    belgians, americans = two_countries
    campaign = make_campaign(template=make_template("Spring sale: 20% off everything this week."),
                             traffic="promotional", validity_hours=1)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert set(us_messages(campaign).values_list("status", "error_description")) == {("failed", PAST_VALIDITY)}
    dispatch.campaign_run(campaign.pk, timeout=20)
    assert {n.lstrip("+") for n in sandbox.sent_numbers()} == {c.phone.lstrip("+") for c in belgians}


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
def test_a_batch_still_waiting_when_the_validity_runs_out_is_not_sent(sandbox, two_countries, make_campaign,
                                                                      make_template):
    from messaging.campaigns.models import Campaign
    from messaging.campaigns.services.windows import EXPIRED, PAST_VALIDITY

    campaign = make_campaign(template=make_template("Spring sale: 20% off everything this week."),
                             traffic="promotional", validity_hours=5)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    dispatch.campaign_run(campaign.pk, timeout=3, poll_every=0.5)
    assert len(sandbox.sent_numbers()) == 2 and us_messages(campaign).filter(status="queued").count() == 2
    waiting = BatchWindow.objects.get(country="US")
    # due again, window still closed, and its next opening now falls after the validity
    Campaign.objects.filter(pk=campaign.pk).update(launched_at=timezone.now() - timedelta(hours=4))
    BatchWindow.objects.filter(pk=waiting.pk).update(opens_at=timezone.now() - timedelta(seconds=1))
    dispatch.campaign_run(campaign.pk, timeout=20)
    assert len(sandbox.sent_numbers()) == 2
    assert set(us_messages(campaign).values_list("status", "error_description")) == {("failed", PAST_VALIDITY)}

    # without windows: whatever is still queued once the validity has passed is not sent either
    other = make_campaign(template=make_template("Spring sale ends tonight: 20% off everything."),
                          traffic="transactional", validity_hours=1)
    campaign_launch(campaign=other, now=True, enqueue=False)
    Campaign.objects.filter(pk=other.pk).update(launched_at=timezone.now() - timedelta(hours=2))
    dispatch.campaign_run(other.pk, timeout=20)
    assert len(sandbox.sent_numbers()) == 2
    assert set(Message.objects.filter(campaign=other).values_list("status", "error_description")) == {
        ("failed", EXPIRED)}
