"""The beat tick isolates each campaign: an unexpected error of one is logged with its id and
kept on it (admin, campaign page), and every other campaign is launched and advanced."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.campaigns import tasks
from messaging.campaigns.models import Campaign
from messaging.campaigns.services.campaigns import campaign_launch, campaign_schedule

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def _due(campaign: Campaign) -> None:
    campaign_schedule(campaign=campaign, at=timezone.now() + dt.timedelta(minutes=10))
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now() - dt.timedelta(seconds=1))


def test_one_broken_campaign_does_not_stall_the_tick(sandbox, make_contacts, make_campaign, admin_client, caplog):
    make_contacts(2)
    active = make_campaign(name="already sending")
    campaign_launch(campaign=active, now=True, enqueue=False)
    healthy = make_campaign(name="healthy")
    _due(healthy)
    broken = make_campaign(name="broken")
    _due(broken)
    # its list lives on another machine's disk: reading it raises, not a CampaignError
    Campaign.objects.filter(pk=broken.pk).update(upload="campaigns/uploads/not-on-this-machine.csv")

    with caplog.at_level(logging.ERROR, logger="messaging.campaigns.services.dispatch"):
        result = tasks.campaigns_tick()

    assert result["launched"] == 1 and result["errors"] == 1
    assert Campaign.objects.get(pk=healthy.pk).state == "sent"
    assert Campaign.objects.get(pk=active.pk).state == "sent"  # advanced in the same tick
    broken.refresh_from_db()
    assert broken.state == "scheduled"  # tried again next tick
    assert "FileNotFoundError" in broken.last_error and broken.last_error_at is not None
    assert any(f"campaign {broken.pk}: launch failed" in r.getMessage() for r in caplog.records)
    assert len(sandbox.sent_numbers()) == 4
    page = admin_client.get(reverse("campaigns:detail", args=[broken.pk])).content.decode()
    assert "FileNotFoundError" in page
    admin = admin_client.get(reverse("admin:campaigns_campaign_change", args=[broken.pk])).content.decode()
    assert "FileNotFoundError" in admin


def test_an_error_while_advancing_one_campaign_does_not_stop_the_others(sandbox, make_contacts, make_campaign):
    make_contacts(1)
    first, second = make_campaign(name="first"), make_campaign(name="second")
    for campaign in (first, second):
        campaign_launch(campaign=campaign, now=True, enqueue=False)
    from messaging.campaigns.services import dispatch

    seen = []

    def advance(campaign_id):  # the real advance, which breaks for the first campaign
        seen.append(campaign_id)
        if campaign_id == first.pk:
            raise RuntimeError("boom")
        tasks._advance(campaign_id)

    result = dispatch.campaigns_tick(advance=advance)
    assert sorted(seen) == sorted([first.pk, second.pk])
    assert result["errors"] == 1
    assert Campaign.objects.get(pk=second.pk).state == "sent"
    assert "RuntimeError: boom" in Campaign.objects.get(pk=first.pk).last_error
