"""The four features beyond the BICS portal, in a real browser, for the README's screenshots:
a campaign with tracked links and clicks, one country waiting for its sending window; the
wizard's preview of a follow-up with the frequency cap, the windows and a tracked link in its
short form; its schedule step (kind of traffic, validity); the opt-out changes a
STOP reply made; the sending windows with their shipped defaults."""

from __future__ import annotations

import importlib
import re

import pytest
import requests
from django.apps import apps
from django.utils import timezone

from contacts.models import Contact, Tag
from messaging.campaigns.models import FrequencyCap, Message, SendingWindow, ShortLink
from messaging.campaigns.services import dispatch
from messaging.campaigns.services.campaigns import campaign_launch
from messaging.catalogue.services.keywords import inbound_keyword_apply
from messaging.webhooks.models import InboundMessage
from tests.campaigns.conftest import Sandbox, make_campaign, make_contacts, make_template, owner, sender  # noqa: F401
from tests.campaigns.test_sending_windows import NEW_YORK, window_around_now

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LINK = "https://shop.example/spring?utm_source=sms"


def _setup(live_server, settings, bics_sandbox, make_contacts, make_campaign, make_template):  # noqa: F811
    settings.PUBLIC_BASE_URL = live_server.url
    settings.CAMPAIGN_RECONCILE_GRACE = 0
    settings.BICS_RATE_LIMIT_REDIS_URL = ""
    Sandbox(bics_sandbox).configure(time_zone=settings.BICS_TIME_ZONE)
    make_contacts(3)
    tag = Tag.objects.get(name="audience")
    for i in range(2):
        Contact.objects.create(phone=f"+1212555010{i}", country="US", first_name="Al").tags.add(tag)
    for country, zone, open_now in (("BE", "Europe/Brussels", True), ("US", NEW_YORK, False)):
        SendingWindow.objects.update_or_create(country=country, traffic="promotional",
                                               defaults={**window_around_now(zone, open_now=open_now), "active": True})
    campaign = make_campaign(template=make_template("Spring sale, 20% off: {{link:" + LINK + "}} until Sunday."),
                             name="Spring sale", traffic="promotional")
    FrequencyCap.objects.create(max_messages=1, period_days=7)  # counts promotional launches from now on
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    dispatch.campaign_run(campaign.pk, timeout=3, poll_every=0.5)
    sent = Message.objects.filter(campaign=campaign, status__in=("submitted", "delivered")).order_by("pk")
    for message in list(sent)[:2]:
        code = ShortLink.objects.get(custom_id=message.custom_id).code
        assert requests.get(f"{live_server.url}/s/{code}", allow_redirects=False, timeout=5).status_code == 302
    follow_up = make_campaign(template=make_template("Last days of the spring sale, 20% off: {{link:" + LINK + "}}"),
                              name="Follow-up", traffic="promotional", validity_hours=24)
    return campaign, follow_up


def test_screens_of_links_windows_caps_and_stop_replies(page, login, live_server, settings, bics_sandbox, screenshot,
                                                        make_contacts, make_campaign, make_template):  # noqa: F811
    campaign, follow_up = _setup(live_server, settings, bics_sandbox, make_contacts, make_campaign, make_template)
    shipped = importlib.import_module("messaging.catalogue.migrations.0009_optout_keywords_shipped")
    shipped.ship(apps, None)
    reply = InboundMessage.objects.create(channel="interact", from_number="+32470000002", text="Arrêt",
                                          received_at=timezone.now(), contact=Contact.objects.get(phone="+32470000002"))
    inbound_keyword_apply(inbound=reply)

    login(page, username="boss", is_superuser=True)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    body = page.inner_text("body")
    assert "Tracked links" in body and "Waiting for the sending window in 1 country" in body
    assert re.search(r"2\s+clicks", body) and re.search(r"2\s+unique clickers", body)
    screenshot(page, "campaign-links-windows")

    page.goto(f"{live_server.url}/campaigns/new/{follow_up.pk}/preview/")
    assert page.inner_text("#frequency-capped") == "4"  # all had the spring sale; the one who said STOP is out anyway
    assert f"{live_server.url}/s/AAAAAAAAAAA" in page.inner_text(".sample-text")  # the short form, counted as sent
    assert page.inner_text("#traffic-kind") == "promotional" and page.inner_text("#validity") == "24 h"
    screenshot(page, "wizard-cap-windows")

    page.goto(f"{live_server.url}/campaigns/new/{follow_up.pk}/schedule/")
    assert page.is_checked("input[name=traffic][value=promotional]")
    assert page.input_value("input[name=validity_hours]") == "24"
    screenshot(page, "wizard-traffic-validity")

    page.goto(f"{live_server.url}/admin/messaging/optoutchange/")
    assert "Opted out" in page.inner_text("body")
    screenshot(page, "optout-replies")

    page.goto(f"{live_server.url}/admin/campaigns/sendingwindow/")
    assert "not legal advice" in page.inner_text("body")
    screenshot(page, "sending-windows")
