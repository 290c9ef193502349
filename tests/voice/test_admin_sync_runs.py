"""Voice's pulls from the admin are sync runs (core.sync_runs), like every push and pull."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import SyncRun
from voice.models import VoicePrice, VoiceUnsubscriber

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def test_pricing_pull_from_the_admin_is_a_sync_run(admin_client, bics_sandbox):
    response = admin_client.post(reverse("admin:voice_voiceprice_changelist"),
                                 {"action": "pull_pricing", "_selected_action": [0]}, follow=True)
    run = SyncRun.objects.get()
    assert (run.resource, run.direction, run.state) == ("voice_pricing", "pull", SyncRun.State.DONE)
    assert run.counts == {"prices": VoicePrice.objects.count()} and VoicePrice.objects.exists()
    assert run.summary in response.content.decode()


def test_unsubscriber_push_and_pull_from_the_admin_are_sync_runs(admin_client, bics_sandbox):
    obj = VoiceUnsubscriber.objects.create(number="+32470000601")
    admin_client.post(reverse("admin:voice_voiceunsubscriber_changelist"),
                      {"action": "push_to_bics", "_selected_action": [obj.pk]})
    obj.refresh_from_db()
    assert obj.bics_id and obj.sync_state == "synced"
    admin_client.post(reverse("admin:voice_voiceunsubscriber_changelist"),
                      {"action": "pull_from_bics", "_selected_action": [obj.pk]})
    runs = list(SyncRun.objects.order_by("pk").values_list("resource", "direction", "state"))
    assert runs == [("voice_unsubscribers", "push", "done"), ("voice_unsubscribers", "pull", "done")]


def test_call_reports_pull_from_the_admin_is_a_sync_run(admin_client, bics_sandbox):
    admin_client.post(reverse("admin:voice_calllog_changelist"), {"action": "pull_now", "_selected_action": [0]})
    run = SyncRun.objects.get()
    assert (run.resource, run.state) == ("voice_reports", SyncRun.State.DONE)
    assert set(run.counts) == {"call logs created", "call logs updated", "recordings created", "recordings updated"}
