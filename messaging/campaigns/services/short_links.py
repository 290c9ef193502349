"""Tracked short links: issued per recipient at launch, followed through ``/s/<code>``
(``views_short_links``). What the campaign page and the audience read: ``link_selectors``."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from messaging.campaigns.models import Campaign, LinkClick, Message, ShortLink
from messaging.catalogue.links import CODE_BYTES, LINK_RE, has_links, short_url


def link_days() -> int:
    return int(getattr(settings, "SHORT_LINK_DAYS", 90))


def links_issue(*, campaign: Campaign, messages: list[Message]) -> int:
    """Give each ``{{link:…}}`` of each message's text its own short URL, in place, and store
    the links in one bulk INSERT. Messages without a text of their own (identical batches)
    carry no link: a campaign with links is never identical (``selectors.is_identical``)."""
    expires_at = timezone.now() + timedelta(days=link_days())
    links: list[ShortLink] = []
    for message in messages:
        if not message.text or not has_links(message.text):
            continue

        def issue(match, message=message):
            code = secrets.token_urlsafe(CODE_BYTES)
            links.append(ShortLink(code=code, campaign_id=campaign.pk, custom_id=message.custom_id,
                                   url=match.group(1), expires_at=expires_at))
            return short_url(code)

        message.text = LINK_RE.sub(issue, message.text)
    ShortLink.objects.bulk_create(links, batch_size=1000)
    return len(links)


def link_follow(code: str) -> str | None:
    """The target of a live link, the click written on the way (one SELECT, one INSERT: the
    redirect waits for nothing else). None: unknown or expired."""
    now = timezone.now()
    row = (ShortLink.objects.filter(pk=code, expires_at__gt=now)
           .values_list("url", "campaign_id", "custom_id").first())
    if row is None:
        return None
    url, campaign_id, custom_id = row
    LinkClick.objects.create(link_id=code, campaign_id=campaign_id, custom_id=custom_id, clicked_at=now)
    return url
