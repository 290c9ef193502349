"""Smart links: visits pushed by webhook or pulled from the visits report."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from messaging.campaigns.models import SmartLink, SmartLinkVisit

log = logging.getLogger(__name__)

VISIT_FIELDS = ("user_agent", "browser", "browser_version", "platform", "device_type", "device_brand",
                "country", "country_code", "region", "city", "mobile")


def smart_link_visit_store(data: dict, *, source: str = "webhook") -> tuple[SmartLinkVisit, bool]:
    """Upsert one visit (the Smart Link webhook's fields, or a row of the visits report)."""
    from core.bics_time import parse_bics_time

    link_id = str(data.get("link_id") or "")
    lengths = {f.name: f.max_length for f in SmartLinkVisit._meta.fields if getattr(f, "max_length", None)}
    values = {name: str(data.get(name) or "")[: lengths.get(name) or None] for name in VISIT_FIELDS}
    values.update(link_id=link_id[:40], created_at=parse_bics_time(data.get("created_at")), source=source,
                  smart_link=SmartLink.objects.filter(link_id=link_id).first())
    bics_id = str(data.get("id") or "") or f"{link_id}:{data.get('created_at')}:{data.get('mobile')}"
    return SmartLinkVisit.objects.update_or_create(bics_id=bics_id[:100], defaults=values)


def smart_link_visits_pull(*, smart_link: SmartLink) -> int:
    """The documented visits report (Account, Smart Link visits) of one smart link; upserts by visit id."""
    from bics.account import list_smart_link_visits
    from core.bics import get_client

    count = 0
    for visit in list_smart_link_visits(get_client(), id=smart_link.link_id):
        data = dict(visit.raw or {}) or {k: v for k, v in vars(visit).items() if k != "raw"}
        data.setdefault("link_id", smart_link.link_id)
        smart_link_visit_store(data, source="pull")
        count += 1
    SmartLink.objects.filter(pk=smart_link.pk).update(visits_pulled_at=timezone.now())
    return count


def smart_links_visits_pull() -> dict[str, int]:
    """Beat: pull the visits report of every smart link of an unfinished or recent campaign."""
    recent = timezone.now() - timedelta(days=getattr(settings, "BICS_SMART_LINK_PULL_DAYS", 30))
    counts = {}
    for link in SmartLink.objects.filter(campaign__isnull=False).exclude(campaign__finished_at__lt=recent):
        try:
            counts[link.link_id] = smart_link_visits_pull(smart_link=link)
        except Exception as exc:  # next link; reported in the result
            log.warning("smart link %s visits pull failed: %s", link.link_id, type(exc).__name__)
            counts[link.link_id] = -1
    return counts
