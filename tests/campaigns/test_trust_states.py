"""The campaign and send-batch state machines: every transition tried from every state, and
pause/cancel/reschedule around the cancel cut-off (no path cancels a campaign due in 3 minutes)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from messaging.campaigns import states
from messaging.campaigns.models import Campaign, CampaignTransition, SendBatch
from messaging.campaigns.services.campaigns import (
    CampaignError,
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaign_schedule,
    campaign_transition,
)

pytestmark = pytest.mark.django_db
ALL_CAMPAIGN_STATES = [value for value, _label in Campaign.State.choices]
ALL_BATCH_STATES = [value for value, _label in SendBatch.State.choices]


def test_the_tables_name_exactly_the_models_states():
    assert set(states.CAMPAIGN.states) == set(ALL_CAMPAIGN_STATES)
    assert set(states.SEND_BATCH.states) == set(ALL_BATCH_STATES)
    from core.batches.models import BatchState

    assert set(states.SEND_BATCH.states) == {value for value, _label in BatchState.choices}


def _in_state(make_campaign, state: str) -> Campaign:
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(state=state,
                                                   scheduled_at=timezone.now() + dt.timedelta(hours=1))
    return campaign


@pytest.mark.parametrize(("transition", "source"), list(itertools.product(
    [t.name for t in states.CAMPAIGN.transitions], ALL_CAMPAIGN_STATES)))
def test_every_campaign_transition_from_every_state(make_campaign, transition, source):
    declared = states.CAMPAIGN[transition]
    campaign = _in_state(make_campaign, source)
    left = states.move(states.CAMPAIGN, Campaign, campaign.pk, to=declared.target, sources=declared.sources)
    after = Campaign.objects.get(pk=campaign.pk).state
    if source in declared.sources:
        assert (left, after) == (source, declared.target)
    else:
        assert (left, after) == (None, source)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(ALL_CAMPAIGN_STATES, ALL_CAMPAIGN_STATES)))
def test_an_undeclared_campaign_edge_never_moves(make_campaign, source, target):
    campaign = _in_state(make_campaign, source)
    allowed = states.CAMPAIGN.allows(source, target)
    if not allowed:
        with pytest.raises(ValueError, match="no transition"):
            campaign_transition(campaign=campaign, to=target, from_states=[source])
    assert bool(states.move(states.CAMPAIGN, Campaign, campaign.pk, to=target)) is allowed
    assert Campaign.objects.get(pk=campaign.pk).state == (target if allowed else source)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(ALL_BATCH_STATES, ALL_BATCH_STATES)))
def test_every_send_batch_edge_from_every_state(db, source, target):
    batch = SendBatch.objects.create(custom=f"b-{source}-{target}", size=1, state=source)
    allowed = states.SEND_BATCH.allows(source, target)
    assert bool(states.move(states.SEND_BATCH, SendBatch, batch.pk, to=target)) is allowed
    assert SendBatch.objects.get(pk=batch.pk).state == (target if allowed else source)


# --------------------------------------------------------------------------- services and the cut-off
def _scheduled_in(make_campaign, state: str, minutes: float) -> Campaign:
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(
        state=state, scheduled_at=timezone.now() + dt.timedelta(minutes=minutes),
        paused_from="scheduled" if state == "paused" else "")
    campaign.refresh_from_db()
    return campaign


PAUSABLE = {"scheduled", "sampling", "sending"}
CANCELLABLE = {"draft", "scheduled", "sampling", "sending", "paused"}


ACTIONS = {"pause": (campaign_pause, PAUSABLE, "paused"), "cancel": (campaign_cancel, CANCELLABLE, "cancelled")}


@pytest.mark.parametrize(("action", "state", "minutes"),
                         list(itertools.product(ACTIONS, ALL_CAMPAIGN_STATES, [3, 10])))
def test_pause_and_cancel_from_every_state_around_the_cut_off(make_campaign, action, state, minutes):
    service, sources, target = ACTIONS[action]
    campaign = _scheduled_in(make_campaign, state, minutes)
    if state == "scheduled" and minutes < 5:
        with pytest.raises(CampaignError, match="5 minutes"):
            service(campaign=campaign)
        assert Campaign.objects.get(pk=campaign.pk).state == "scheduled"
        return
    assert service(campaign=campaign) is (state in sources)
    after = Campaign.objects.get(pk=campaign.pk)
    assert after.state == (target if state in sources else state)
    if action == "pause" and state in sources:
        assert after.paused_from == state


def test_a_campaign_due_in_3_minutes_cannot_be_cancelled_by_any_path(make_campaign, owner):
    campaign = _scheduled_in(make_campaign, "scheduled", 3)
    with pytest.raises(CampaignError, match="5 minutes"):
        campaign_pause(campaign=campaign, user=owner)  # the old way round: pause, then cancel the paused one
    with pytest.raises(CampaignError, match="5 minutes"):
        campaign_cancel(campaign=campaign, user=owner)
    with pytest.raises(CampaignError, match="5 minutes"):  # nor pushed out of the window
        campaign_schedule(campaign=campaign, at=timezone.now() + dt.timedelta(days=2), user=owner)
    campaign.refresh_from_db()
    assert campaign.state == "scheduled"
    assert campaign.scheduled_at < timezone.now() + dt.timedelta(minutes=5)
    assert not CampaignTransition.objects.filter(campaign=campaign).exists()


def test_paused_before_the_window_and_resumed_inside_it_stays_uncancellable(make_campaign, owner):
    now = timezone.now()
    campaign = make_campaign()
    campaign_schedule(campaign=campaign, at=now + dt.timedelta(minutes=10), user=owner, now=now)
    assert campaign_pause(campaign=campaign, user=owner, now=now)
    assert campaign_resume(campaign=campaign, user=owner)
    assert Campaign.objects.get(pk=campaign.pk).state == "scheduled"
    inside = now + dt.timedelta(minutes=7)
    with pytest.raises(CampaignError):
        campaign_cancel(campaign=campaign, user=owner, now=inside)
    with pytest.raises(CampaignError):
        campaign_pause(campaign=campaign, user=owner, now=inside)
    assert Campaign.objects.get(pk=campaign.pk).state == "scheduled"


def test_the_template_hook_still_pauses_inside_the_window(make_campaign):
    from messaging.campaigns.services.campaigns import campaigns_pause_for_template

    campaign = _scheduled_in(make_campaign, "scheduled", 3)
    assert campaigns_pause_for_template(template=campaign.template) == 1
    assert Campaign.objects.get(pk=campaign.pk).state == "paused"
