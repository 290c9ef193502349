"""Staff pages: list, campaign page with its progress JSON, CSV export, preview, one-off send."""

from __future__ import annotations

import pytest
from django.urls import reverse

from messaging.campaigns.models import Campaign, Message
from messaging.campaigns.services import dispatch
from messaging.campaigns.services.campaigns import campaign_launch

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_campaign(sandbox, make_contacts, make_campaign, make_template):
    make_contacts(4)
    campaign = make_campaign(template=make_template("Our shop opens on Monday at nine."))
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    dispatch.campaign_run(campaign.pk, timeout=10)
    return campaign


@pytest.mark.sandbox
def test_campaign_page_shows_progress_and_messages(admin_client, sent_campaign):
    page = admin_client.get(reverse("campaigns:detail", args=[sent_campaign.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Delivery rate" in body and "progress.json" in body and Message.objects.first().number in body
    data = admin_client.get(reverse("campaigns:progress", args=[sent_campaign.pk])).json()
    assert data["total"] == 4 and data["counts"]["submitted"] == 4 and data["progress"] == 100.0


@pytest.mark.sandbox
def test_messages_csv_export_honours_the_filters(admin_client, sent_campaign):
    url = reverse("campaigns:messages-csv", args=[sent_campaign.pk])
    lines = b"".join(admin_client.get(url).streaming_content).decode().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("number,status") and len(lines) == 5
    assert lines[1].startswith("'+32")  # numbers escaped against formula injection
    filtered = b"".join(admin_client.get(url + "?status=delivered").streaming_content).decode().splitlines()
    assert len(filtered) == 1


@pytest.mark.sandbox
def test_campaign_list_shows_state_and_rate(admin_client, sent_campaign):
    body = admin_client.get(reverse("campaigns:list")).content.decode()
    assert sent_campaign.name in body and "Delivery rate" in body


def test_preview_shows_the_audience_and_launch_is_blocked_without_recipients(admin_client, make_campaign):
    campaign = make_campaign()
    body = admin_client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    assert "Will receive" in body and "Launch blocked" in body


def test_preview_of_a_campaign_with_no_segment_or_tag_says_nobody_instead_of_failing(admin_client, make_campaign):
    """No source is an empty audience: its counts were compiled as SQL and raised EmptyResultSet (500)."""
    campaign = make_campaign()
    campaign.tags.clear()
    response = admin_client.get(reverse("campaigns:preview", args=[campaign.pk]))
    assert response.status_code == 200
    assert "Launch blocked" in response.content.decode()


@pytest.mark.sandbox
def test_preview_launches(admin_client, make_contacts, make_campaign, sandbox, django_capture_on_commit_callbacks):
    make_contacts(2)
    campaign = make_campaign()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("campaigns:preview", args=[campaign.pk]), {"action": "launch"})
    assert response.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).state == "sent"  # eager Celery in tests
    assert len(sandbox.sent_numbers()) == 2


@pytest.mark.sandbox
def test_test_send_goes_to_the_staff_numbers_only(admin_client, make_contacts, make_campaign, sandbox):
    make_contacts(3)
    campaign = make_campaign()
    admin_client.post(reverse("campaigns:preview", args=[campaign.pk]),
                      {"action": "test", "t-numbers": "+32470999001\n+32470999002"})
    assert sorted(sandbox.sent_numbers()) == ["32470999001", "32470999002"]
    assert Campaign.objects.get(pk=campaign.pk).state == "draft"


@pytest.mark.sandbox
def test_one_off_free_text_send_shows_the_result(admin_client, sandbox, sender):
    response = admin_client.post(reverse("campaigns:one-off"), {
        "channel": "sms", "number": "+32470123456", "text": "Hello from the back-office", "sender": sender.pk,
        "type": "U", "flash": "on", "max_units": "2"})
    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert "Submitted" in page
    last = sandbox.get("requests")["last"]["sms.messages.send"]
    assert last["type"] == "U" and last["flash"] == 1 and last["max_units"] == 2 and last["to"] == ["32470123456"]


def test_admin_actions_pause_and_cancel(admin_client, make_campaign):
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(state="sending")
    url = reverse("admin:campaigns_campaign_changelist")
    admin_client.post(url, {"action": "pause", "_selected_action": [campaign.pk]})
    assert Campaign.objects.get(pk=campaign.pk).state == "paused"
    admin_client.post(url, {"action": "cancel", "_selected_action": [campaign.pk]})
    assert Campaign.objects.get(pk=campaign.pk).state == "cancelled"
    page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200 and "paused" in page.content.decode()
