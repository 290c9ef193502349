"""Tracked short links: issued per recipient at launch, followed through ``/s/<code>``
(``views_short_links``). What the campaign page and the audience read: ``link_selectors``.

A visit costs the redirect one indexed SELECT and one Redis RPUSH: the click is appended to a
list (``CLICKS_KEY``) and ``link_clicks_drain`` (beat, every few seconds) writes the waiting
clicks to the database in sets. No database write in the request, so visits never queue on the
database's write lock. Without Redis (not configured, or unreachable) the click is inserted at
once: it is never lost, only slower."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from messaging.campaigns.models import Campaign, LinkClick, Message, ShortLink
from messaging.catalogue.links import CODE_BYTES, LINK_RE, has_links, short_url

logger = logging.getLogger(__name__)

CLICKS_KEY = "campaigns:link-clicks"
DRAIN_LOCK = "campaigns:link-clicks:drain"
DRAIN_SET = 5000
_clients: dict[str, object] = {}
_TARGET_SQL = (f"SELECT url, campaign_id, custom_id FROM {ShortLink._meta.db_table} "
               "WHERE code = %s AND expires_at > %s")


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


def clicks_redis():
    """The Redis client of the click list (one per process and URL), or None when clicks go
    straight to the database (``SHORT_LINK_CLICKS_REDIS_URL`` empty or not a Redis URL)."""
    url = str(getattr(settings, "SHORT_LINK_CLICKS_REDIS_URL", "") or "")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    client = _clients.get(url)
    if client is None:
        import redis

        # short timeouts: a Redis that hangs must not hold the redirect (the click then goes to the database)
        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client


def link_target(code: str, now: datetime | None = None) -> tuple[str, int, str] | None:
    """(url, campaign id, message custom_id) of a live link; None: unknown or expired. One
    primary-key SELECT written out: building it through the ORM cost each visit more CPU than
    running it (what queues visits behind each other under load)."""
    at = connection.ops.adapt_datetimefield_value(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_TARGET_SQL, [code, at])
        return cursor.fetchone()


def link_follow(code: str) -> str | None:
    """The target of a live link, the click recorded on the way (one SELECT, one RPUSH: the
    redirect waits for nothing else). None: unknown or expired."""
    now = timezone.now()
    row = link_target(code, now)
    if row is None:
        return None
    url, campaign_id, custom_id = row
    click_record(code=code, campaign_id=campaign_id, custom_id=custom_id, at=now)
    return url


def click_record(*, code: str, campaign_id: int, custom_id: str, at: datetime) -> None:
    client = clicks_redis()
    if client is not None:
        import redis

        try:
            client.rpush(CLICKS_KEY, json.dumps([code, campaign_id, custom_id, at.isoformat()]))
            return
        except redis.RedisError as exc:  # the drain skips a click pushed and then inserted here
            logger.warning("short link click of %s written to the database: Redis unavailable (%s)", code, exc)
    LinkClick.objects.create(link_id=code, campaign_id=campaign_id, custom_id=custom_id, clicked_at=at)


@dataclass(frozen=True)
class _Click:
    code: str
    campaign_id: int
    custom_id: str
    at: datetime


def _parse(raw: bytes) -> _Click | None:
    try:
        code, campaign_id, custom_id, at = json.loads(raw)
        return _Click(str(code), int(campaign_id), str(custom_id), datetime.fromisoformat(at))
    except (ValueError, TypeError) as exc:
        logger.error("short link click dropped: unreadable entry %r (%s)", raw[:200], exc)
        return None


@transaction.atomic
def _store(clicks: list[_Click]) -> int:
    """Insert the clicks not stored yet. A click is known by its link and its microsecond: a set
    read again after a drain that stopped between its INSERT and its trim, or a click the
    redirect also inserted, is not counted twice. Links deleted since (their campaign) drop out."""
    codes = {c.code for c in clicks}
    live = set(ShortLink.objects.filter(code__in=codes).values_list("code", flat=True))
    stored = set(LinkClick.objects.filter(link_id__in=live).values_list("link_id", "clicked_at"))
    new, seen = [], set()
    for click in clicks:
        key = (click.code, click.at)
        if click.code in live and key not in stored and key not in seen:
            seen.add(key)
            new.append(LinkClick(link_id=click.code, campaign_id=click.campaign_id, custom_id=click.custom_id,
                                 clicked_at=click.at))
    LinkClick.objects.bulk_create(new, batch_size=1000)
    return len(new)


def link_clicks_drain(*, set_size: int = DRAIN_SET) -> int:
    """Move the clicks waiting in Redis to the database, a set at a time, until the list is
    empty; returns how many were stored. One drain at a time (a Redis lock); a set leaves the
    list only once it is committed (read, INSERT, then trim: new clicks are appended at the
    other end), so a drain that dies loses nothing."""
    client = clicks_redis()
    if client is None:
        return 0
    lock = client.lock(DRAIN_LOCK, timeout=300, blocking=False)
    if not lock.acquire():
        return 0
    stored = 0
    try:
        while raw := client.lrange(CLICKS_KEY, 0, set_size - 1):
            stored += _store([click for item in raw if (click := _parse(item)) is not None])
            client.ltrim(CLICKS_KEY, len(raw), -1)
            lock.reacquire()  # a long backlog: keep the lock for the next set
    finally:
        lock.release()
    return stored


def link_clicks_waiting() -> int:
    """Clicks recorded in Redis and not yet drained to the database."""
    client = clicks_redis()
    return int(client.llen(CLICKS_KEY)) if client is not None else 0
