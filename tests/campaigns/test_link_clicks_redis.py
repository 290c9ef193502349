"""Tracked-link clicks through Redis: a visit appends its click to a Redis list (no database
write in the redirect), the drain stores them in sets and the campaign page counts them; a
drain that stopped between its INSERT and its trim, or a click also written to the database,
is never counted twice; with Redis down the click goes to the database at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from messaging.campaigns.models import LinkClick, ShortLink
from messaging.campaigns.services import short_links
from messaging.campaigns.services.short_links import (
    CLICKS_KEY,
    link_clicks_drain,
    link_clicks_waiting,
)
from tests.conftest import free_port


def links(campaign, n: int) -> list[ShortLink]:
    expires = timezone.now() + timedelta(days=1)
    return ShortLink.objects.bulk_create([
        ShortLink(code=f"code{i:07d}", campaign=campaign, custom_id=f"c{campaign.pk}-{i:08d}",
                  url=f"https://shop.example/item/{i}", expires_at=expires) for i in range(n)])


@pytest.fixture
def clicks_in_redis(settings, redis_url, redis_client):
    settings.SHORT_LINK_CLICKS_REDIS_URL = redis_url
    return redis_client


@pytest.mark.django_db(transaction=True)
def test_visits_wait_in_redis_until_the_drain_stores_them_for_the_page(clicks_in_redis, live_server, make_campaign,
                                                                         admin_client):
    campaign = make_campaign()
    first, second, _third = links(campaign, 3)
    for link in (first, first, second):
        response = requests.get(f"{live_server.url}/s/{link.code}", allow_redirects=False, timeout=5)
        assert (response.status_code, response.headers["Location"]) == (302, link.url)
        assert "no-cache" in response.headers["Cache-Control"]
    assert requests.get(f"{live_server.url}/s/unknown0001", allow_redirects=False, timeout=5).status_code == 404
    assert link_clicks_waiting() == 3 and not LinkClick.objects.exists()  # nothing written by the redirect
    assert link_clicks_drain(set_size=2) == 3  # two sets
    assert link_clicks_waiting() == 0 and link_clicks_drain() == 0
    assert sorted(LinkClick.objects.values_list("link_id", flat=True)) == [first.code, first.code, second.code]
    page = admin_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert re.search(r'id="link-clicks">3<', page) and re.search(r'id="link-clickers">2<', page)
    assert 'id="link-rate">66.7%<' in page


@pytest.mark.django_db
def test_the_redirect_skips_the_session_and_user_middleware(clicks_in_redis, client, make_campaign):
    link = links(make_campaign(), 1)[0]
    client.cookies["sessionid"] = "not-a-session"
    response = client.get(f"/s/{link.code}")
    assert (response.status_code, response["Location"]) == (302, link.url)
    # answered before SessionMiddleware and XFrameOptionsMiddleware: neither touched the response
    assert "X-Frame-Options" not in response and "Cookie" not in response.get("Vary", "")
    assert not hasattr(response.wsgi_request, "user") and not hasattr(response.wsgi_request, "session")
    assert client.head(f"/s/{link.code}").status_code == 302 and link_clicks_waiting() == 1  # HEAD: no click


@pytest.mark.django_db
def test_a_drain_read_again_or_a_click_also_in_the_database_is_counted_once(clicks_in_redis, make_campaign):
    campaign = make_campaign()
    kept, gone = links(campaign, 2)
    now = timezone.now()
    for i in range(3):
        short_links.click_record(code=kept.code, campaign_id=campaign.pk, custom_id=kept.custom_id,
                                 at=now + timedelta(seconds=i))
    short_links.click_record(code=gone.code, campaign_id=campaign.pk, custom_id=gone.custom_id, at=now)
    clicks_in_redis.rpush(CLICKS_KEY, b"not json")
    # a drain that died after its INSERT, before its trim: the same entries are read again
    entries = [c for raw in clicks_in_redis.lrange(CLICKS_KEY, 0, -1) if (c := short_links._parse(raw))]
    assert short_links._store(entries[:2]) == 2
    LinkClick.objects.create(link=kept, campaign=campaign, custom_id=kept.custom_id,
                             clicked_at=now + timedelta(seconds=2))  # pushed, timed out, written by the redirect
    ShortLink.objects.filter(pk=gone.pk).delete()  # its campaign's links deleted meanwhile
    assert link_clicks_drain() == 0
    assert sorted(LinkClick.objects.values_list("clicked_at", flat=True)) == [now + timedelta(seconds=i)
                                                                             for i in range(3)]
    assert link_clicks_waiting() == 0


@pytest.mark.django_db
def test_with_redis_down_the_click_is_written_at_once(settings, client, make_campaign):
    settings.SHORT_LINK_CLICKS_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    link = links(make_campaign(), 1)[0]
    assert client.get(f"/s/{link.code}").status_code == 302
    assert list(LinkClick.objects.values_list("link_id", "custom_id")) == [(link.code, link.custom_id)]
    settings.SHORT_LINK_CLICKS_REDIS_URL = ""  # not configured: written at once too, nothing to drain
    assert client.get(f"/s/{link.code}").status_code == 302
    assert LinkClick.objects.count() == 2 and link_clicks_drain() == 0 and link_clicks_waiting() == 0


def test_the_beat_drains_the_clicks_every_few_seconds():
    from config.celery import app
    from config.schedule import PERIODIC_TASKS

    app.loader.import_default_modules()
    every = {task: seconds for task, seconds, _kwargs in PERIODIC_TASKS.values()}
    assert every["messaging.tasks.drain_link_clicks"] <= 15 and "messaging.tasks.drain_link_clicks" in app.tasks
