"""The wizard and the newer features: the kind of traffic is chosen at the schedule step (the
windows and the cap follow it), the preview shows a tracked link in its short form (what the
part and cost counts measure), and a test send delivers the link's target."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from messaging.campaigns.models import SendingWindow
from messaging.catalogue.links import CODE_LENGTH

LONG = "https://shop.example/spring/collection?utm_source=sms&utm_campaign=spring-sale-2026&variant=" + "x" * 120
LINKED = "Spring sale, {{first_name}}: {{link:" + LONG + "}} until Sunday."
SCHEDULE = {"when": "now", "batch_interval": "0", "smart_sample_size": "10", "smart_wait_minutes": "30"}


@pytest.mark.django_db
def test_the_schedule_step_chooses_the_kind_of_traffic_and_the_windows_follow_it(admin_client, make_contacts,
                                                                              make_campaign, make_template):
    make_contacts(2)
    campaign = make_campaign(template=make_template("Your order ships today, {{first_name}}."))  # type SI
    url = reverse("wizard:schedule", args=[campaign.pk])
    page = admin_client.get(url).content.decode()
    assert "Kind of traffic" in page and "As the template says: transactional" in page
    assert re.search(r'<input type="radio" name="traffic" value="promotional"', page)
    SendingWindow.objects.update(active=False)
    SendingWindow.objects.update_or_create(country="", traffic="promotional", defaults={
        "opens": "00:00", "closes": "00:00", "weekdays": "", "active": True})  # promotional: never open
    preview = admin_client.get(reverse("wizard:preview", args=[campaign.pk])).content.decode()
    assert 'id="traffic-kind">transactional<' in preview and "Sending windows" not in preview

    assert admin_client.post(url, {**SCHEDULE, "traffic": "promotional"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.traffic == "promotional"
    preview = admin_client.get(reverse("wizard:preview", args=[campaign.pk])).content.decode()
    assert 'id="traffic-kind">promotional<' in preview
    assert "2 recipient(s) have no sending window" in preview
    assert 'value="promotional" checked' in re.sub(r'\s+id="[^"]+"', "", admin_client.get(url).content.decode())

    admin_client.post(url, {**SCHEDULE, "traffic": ""})  # back to what the template says
    campaign.refresh_from_db()
    assert campaign.traffic == ""


@pytest.mark.django_db
def test_the_preview_shows_a_tracked_link_in_its_short_form(admin_client, settings, make_contacts, make_campaign,
                                                            make_template):
    settings.PUBLIC_BASE_URL = "https://go.example"
    make_contacts(1)
    campaign = make_campaign(template=make_template(LINKED))
    page = admin_client.get(reverse("wizard:preview", args=[campaign.pk])).content.decode()
    shown = re.search(r'<p class="sample-text">([^<]*)</p>', page).group(1)
    assert "{{link:" not in shown and LONG not in shown
    assert re.search(rf"https://go\.example/s/A{{{CODE_LENGTH}}} until Sunday\.", shown)
    assert re.search(r"· 1 part<", page)  # the long URL would make it two
    page = admin_client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    assert "https://go.example/s/" + "A" * CODE_LENGTH in page and "{{link:" not in page


@pytest.mark.django_db
@pytest.mark.sandbox
def test_a_test_send_delivers_the_link_target(admin_client, sandbox, make_contacts, make_campaign, make_template):
    make_contacts(1)
    campaign = make_campaign(template=make_template(LINKED))
    admin_client.post(reverse("campaigns:preview", args=[campaign.pk]),
                      {"action": "test", "t-numbers": "+32470999001"})
    assert sandbox.sent_numbers() == ["32470999001"]
    text = sandbox.get("requests")["last"]["sms.messages.send"]["message"]
    assert LONG in text and "{{link:" not in text and "/s/" not in text


@pytest.mark.django_db
def test_the_schedule_step_sets_the_validity_and_the_preview_says_it(admin_client, make_contacts, make_campaign):
    make_contacts(1)
    campaign = make_campaign()
    url = reverse("wizard:schedule", args=[campaign.pk])
    page = admin_client.post(url, {**SCHEDULE, "validity_hours": "0"}).content.decode()
    assert "A validity is at least one hour." in page
    assert admin_client.post(url, {**SCHEDULE, "validity_hours": "6"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.validity_hours == 6
    preview = admin_client.get(reverse("wizard:preview", args=[campaign.pk])).content.decode()
    assert 'valid for <span id="validity">6 h</span> after the launch' in preview
    admin_client.post(url, {**SCHEDULE, "validity_hours": ""})
    campaign.refresh_from_db()
    assert campaign.validity_hours is None
