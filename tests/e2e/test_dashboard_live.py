"""The dashboard updates without a reload: a sync run finishing, a campaign's progress."""

import pytest

from core.models import SyncRun
from messaging.campaigns.models import Campaign, Message
from tests.campaigns.conftest import make_campaign, make_template, owner, sender  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sync_run_and_campaign_progress_update_in_place(page, login, live_server, make_campaign):  # noqa: F811
    run = SyncRun.objects.create(resource="templates", direction="pull", state="running")
    campaign = make_campaign(name="Live")
    Campaign.objects.filter(pk=campaign.pk).update(state="sending")
    message = Message.objects.create(campaign=campaign, custom_id="live-1", number="+32470000001")
    login(page, username="root", is_superuser=True)
    page.goto(live_server.url + "/")
    assert "Running" in page.inner_text("#sync-runs")
    SyncRun.objects.filter(pk=run.pk).update(state="done", summary="pull templates: 3 updated")
    Message.objects.filter(pk=message.pk).update(status="delivered")
    page.wait_for_function("document.querySelector('#sync-runs').textContent.includes('3 updated')")
    page.wait_for_function("document.querySelector('#active-campaigns .pct').textContent.startsWith('100')")
    assert "Done" in page.inner_text("#sync-runs")
