"""NEEDS-staff (campaigns): Marketing may run campaigns, the pages wear the staff layout, numbers
are masked for staff without core.view_full_numbers, and the list links to the wizard."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from messaging.campaigns.models import Message

pytestmark = pytest.mark.django_db

NUMBER = "+32470123456"
MASKED = "+32••••••456"


@pytest.fixture
def marketer(django_user_model):
    user = django_user_model.objects.create_user(username="marketer", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    return user


@pytest.fixture
def full_numbers(django_user_model):
    user = django_user_model.objects.create_user(username="full", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    user.user_permissions.add(Permission.objects.get(content_type__app_label="core", codename="view_full_numbers"))
    return user


@pytest.fixture
def campaign_with_message(make_campaign):
    campaign = make_campaign()
    message = Message.objects.create(campaign=campaign, number=NUMBER, custom_id="c-1", status="delivered")
    return campaign, message


def test_marketing_group_has_the_campaign_permissions(marketer):
    for action in ("view", "add", "change", "delete"):
        assert marketer.has_perm(f"campaigns.{action}_campaign")


def test_marketing_user_opens_the_wizard_and_the_campaign_pages(client, marketer, campaign_with_message):
    campaign, _ = campaign_with_message
    client.force_login(marketer)
    for url in (reverse("wizard:start"), reverse("campaigns:list"), reverse("campaigns:detail", args=[campaign.pk]),
                reverse("campaigns:preview", args=[campaign.pk]), reverse("campaigns:one-off")):
        assert client.get(url).status_code == 200, url


def test_campaign_page_has_the_product_header_and_the_staff_navigation(client, marketer, campaign_with_message):
    campaign, _ = campaign_with_message
    client.force_login(marketer)
    body = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "BICS CPaaS back-office" in body and "Django administration" not in body
    assert 'class="staff-nav"' in body and 'id="user-tools"' in body  # the admin's user tools
    assert body.count(f"<h1>{campaign.name}</h1>") == 1 and body.count("<h1") == 1  # the title once
    assert 'id="timeline-title"' in body and 'id="outcomes-country"' in body and 'id="outcomes-operator"' in body
    assert "Statuses as of page load" in body


def test_campaign_list_links_to_the_wizard(client, marketer):
    client.force_login(marketer)
    body = client.get(reverse("campaigns:list")).content.decode()
    assert f'href="{reverse("wizard:start")}">New campaign</a>' in body
    assert 'class="staff-nav"' in body


def csv_text(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_numbers_masked_in_the_messages_table_and_csv_for_marketing(client, marketer, campaign_with_message):
    campaign, _ = campaign_with_message
    client.force_login(marketer)
    body = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert MASKED in body and NUMBER not in body
    text = csv_text(client.get(reverse("campaigns:messages-csv", args=[campaign.pk])))
    assert MASKED in text and NUMBER not in text
    assert text.lstrip("\ufeff").startswith("number,status")


def test_numbers_whole_for_staff_with_view_full_numbers(client, full_numbers, campaign_with_message):
    campaign, _ = campaign_with_message
    client.force_login(full_numbers)
    assert NUMBER in client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert NUMBER in csv_text(client.get(reverse("campaigns:messages-csv", args=[campaign.pk])))


def test_one_off_result_masks_the_number(client, marketer, full_numbers):
    number = "+32470987654"  # not the form's example number
    message = Message.objects.create(number=number, custom_id="one-1", status="delivered")
    url = reverse("campaigns:one-off") + f"?message={message.pk}"
    client.force_login(marketer)
    body = client.get(url).content.decode()
    assert "+32••••••654" in body and number not in body
    client.force_login(full_numbers)
    assert number in client.get(url).content.decode()
