"""Campaign transitions raced by real threads (each with its own connection): one conditional
UPDATE per transition means one winner; rerun on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from messaging.campaigns.models import Campaign, CampaignTransition
from messaging.campaigns.services.campaigns import (
    CampaignError,
    campaign_cancel,
    campaign_pause,
    campaign_resume,
)
from tests.concurrency import on_postgresql, race, run_on_postgresql


@pytest.mark.django_db(transaction=True)
def test_racing_cancels_move_a_campaign_once(make_campaign):
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(state="scheduled",
                                                   scheduled_at=timezone.now() + dt.timedelta(hours=1))
    wins = race(lambda: [True] if campaign_cancel(campaign=Campaign.objects.get(pk=campaign.pk)) else [])
    assert wins == [True]
    assert list(CampaignTransition.objects.filter(campaign=campaign).values_list("from_state", "to_state")) == [
        ("scheduled", "cancelled")]


@pytest.mark.django_db(transaction=True)
def test_racing_pause_resume_and_cancel_keep_a_valid_history(make_campaign):
    campaign = make_campaign()  # scheduled: a resume puts it back there and wakes no engine
    Campaign.objects.filter(pk=campaign.pk).update(state="scheduled",
                                                   scheduled_at=timezone.now() + dt.timedelta(hours=1))

    def worker():
        moved = []
        for action in (campaign_pause, campaign_resume, campaign_pause, campaign_cancel):
            try:
                moved.append(action(campaign=Campaign.objects.get(pk=campaign.pk)))
            except CampaignError:  # resume of a campaign that is not paused (any more)
                moved.append(False)
        return [m for m in moved if m]

    race(worker)
    history = list(CampaignTransition.objects.filter(campaign=campaign).order_by("pk")
                   .values_list("from_state", "to_state"))
    state = "scheduled"
    for source, target in history:  # each row starts where the previous one ended
        assert source == state
        state = target
    assert state == Campaign.objects.get(pk=campaign.pk).state == "cancelled"
    assert [t for _s, t in history].count("cancelled") == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_campaign_transitions_on_postgresql():
    if on_postgresql():
        return
    run_on_postgresql(["tests/campaigns/test_trust_races.py", "tests/campaigns/test_trust_states.py"],
                      name="campaign_states")
