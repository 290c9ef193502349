"""Tracked short links: ``{{link:…}}`` becomes one short URL per recipient at launch; the
counts use the short form; a visit through the real URL redirects and is counted; links
expire; the campaign page shows the figures; "clicked / did not click" selects an audience."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from messaging.campaigns import selectors as sel
from messaging.campaigns.models import ClickCondition, LinkClick, Message, ShortLink
from messaging.campaigns.services import dispatch
from messaging.campaigns.services.campaigns import campaign_launch
from messaging.catalogue import rules
from messaging.catalogue.links import CODE_LENGTH, short_url

LONG = "https://shop.example/spring/collection?utm_source=sms&utm_campaign=spring-sale-2026&variant=" + "x" * 120
CONTENT = "Hi {{first_name}}, the spring sale is on: {{link:" + LONG + "}} until Sunday."


def codes_in(text: str, base: str) -> list[str]:
    return re.findall(re.escape(base.rstrip("/")) + r"/s/([A-Za-z0-9_-]+)", text)


def test_counts_use_the_short_form_and_the_link_is_valid_template_syntax(settings):
    settings.PUBLIC_BASE_URL = "https://go.example"
    text = "Sale today: {{link:" + LONG + "}}"
    analysis = rules.analyse(text, "N")
    assert analysis.characters == len("Sale today: ") + len(short_url("A" * CODE_LENGTH))
    assert analysis.parts == 1 and rules.analyse("Sale today: " + LONG, "N").parts == 2
    facts = rules.TemplateFacts(content=text)
    assert not [r for r in rules.check_variable_syntax(facts) if r.level == rules.ERROR]


@pytest.mark.django_db(transaction=True)
@pytest.mark.sandbox
def test_a_launch_with_links_gives_each_recipient_a_code_and_visits_are_counted_on_the_page(
        sandbox, live_server, settings, make_contacts, make_campaign, make_template, admin_client):
    settings.PUBLIC_BASE_URL = live_server.url
    make_contacts(3)
    campaign = make_campaign(template=make_template(CONTENT))
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    dispatch.campaign_run(campaign.pk, timeout=20)
    messages = list(Message.objects.filter(campaign=campaign).order_by("pk"))
    assert len(sandbox.sent_numbers()) == 3
    codes = [codes_in(m.text, live_server.url) for m in messages]
    assert all(len(c) == 1 and len(c[0]) == CODE_LENGTH for c in codes) and len({c[0] for c in codes}) == 3
    assert all("{{link:" not in m.text and m.parts == 1 for m in messages)
    assert ShortLink.objects.filter(campaign=campaign).count() == 3
    first, second = codes[0][0], codes[1][0]
    for code in (first, first, second):
        response = requests.get(f"{live_server.url}/s/{code}", allow_redirects=False, timeout=5)
        assert response.status_code == 302 and response.headers["Location"] == LONG
    assert requests.head(f"{live_server.url}/s/{first}", allow_redirects=False, timeout=5).status_code == 302
    clicks = LinkClick.objects.filter(campaign=campaign)
    assert clicks.count() == 3 and {c.custom_id for c in clicks} == {messages[0].custom_id, messages[1].custom_id}
    page = admin_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert re.search(r'id="link-clicks">3<', page) and re.search(r'id="link-clickers">2<', page)
    assert 'id="link-rate">66.7%<' in page and timezone.localdate().strftime("%Y-%m-%d") in page


@pytest.mark.django_db
def test_an_unknown_or_expired_link_is_not_found_and_not_counted(client, make_campaign):
    campaign = make_campaign()
    ShortLink.objects.create(code="old-code-123", campaign=campaign, custom_id="c1-00000001", url="https://a.example/",
                             expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/s/old-code-123").status_code == 404
    assert client.get("/s/never-issued").status_code == 404
    assert not LinkClick.objects.exists()


@pytest.mark.django_db
def test_links_expire_after_the_configured_number_of_days(settings, make_contacts, make_campaign, make_template):
    settings.SHORT_LINK_DAYS = 7
    make_contacts(1)
    campaign = make_campaign(template=make_template(CONTENT))
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    link = ShortLink.objects.get()
    assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)


@pytest.mark.django_db
def test_the_audience_can_be_those_who_clicked_or_did_not_click_an_earlier_campaign(
        client, make_contacts, make_campaign, make_template):
    contacts = make_contacts(3)
    source = make_campaign(template=make_template(CONTENT), name="Spring")
    campaign_launch(campaign=source, now=True, enqueue=False)
    clicker = Message.objects.get(campaign=source, contact=contacts[0])
    assert client.get(f"/s/{ShortLink.objects.get(custom_id=clicker.custom_id).code}").status_code == 302
    follow_up = make_campaign(name="Follow-up")
    condition = ClickCondition.objects.create(campaign=follow_up, source=source, clicked=True)
    assert list(sel.eligible_contacts(follow_up).values_list("pk", flat=True)) == [contacts[0].pk]
    condition.clicked = False
    condition.save()
    assert sorted(sel.eligible_contacts(follow_up).values_list("pk", flat=True)) == [contacts[1].pk, contacts[2].pk]
    assert sel.audience_plan(follow_up).eligible == 2


@pytest.mark.django_db
def test_the_wizard_offers_and_keeps_the_click_condition(client, owner, make_contacts, make_campaign, make_template):
    from contacts.models import Tag

    owner.is_superuser = True
    owner.save()
    client.force_login(owner)
    make_contacts(2)
    source = make_campaign(template=make_template(CONTENT), name="Spring links")
    campaign_launch(campaign=source, now=True, enqueue=False)
    page = client.get(reverse("wizard:start")).content.decode()
    assert f'value="ignored:{source.pk}"' in page and "Spring links" in page
    tag = Tag.objects.get(name="audience")
    client.post(reverse("wizard:start"), {"name": "Follow-up", "channel": "sms", "tags": [tag.pk],
                                          "click_condition": f"ignored:{source.pk}"})
    template = make_template("Our shop opens on Monday at nine.")
    client.post(reverse("wizard:template-new"), {"template": template.pk, "action": "next"})
    follow_up = ClickCondition.objects.get(source=source).campaign
    assert follow_up.name == "Follow-up" and not follow_up.click_condition.clicked
    client.post(reverse("wizard:audience", args=[follow_up.pk]),
                {"name": "Follow-up", "channel": "sms", "tags": [tag.pk], "click_condition": ""})
    assert not ClickCondition.objects.exists()
