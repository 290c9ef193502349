"""Selectors of tracked short links: the campaign page's click figures, and the audience
condition "clicked / did not click campaign X" (``selectors.campaign_contacts`` applies it)."""

from __future__ import annotations

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.db.models.functions import TruncDate

from messaging.campaigns.models import Campaign, ClickCondition, LinkClick, Message, ShortLink


def link_stats(campaign: Campaign) -> dict | None:
    """Clicks, unique clickers and click-through rate (unique clickers / recipients with a
    link), per day with the running rate. None when the campaign has no tracked link."""
    recipients = ShortLink.objects.filter(campaign=campaign).values("custom_id").distinct().count()
    if not recipients:
        return None
    clicks = LinkClick.objects.filter(campaign=campaign)
    per_day = list(clicks.annotate(day=TruncDate("clicked_at")).values("day")
                   .annotate(clicks=Count("id"), clickers=Count("custom_id", distinct=True)).order_by("day"))
    first_clicks = (clicks.values("custom_id").annotate(first=Min("clicked_at"))
                    .annotate(day=TruncDate("first")).values("day").annotate(new=Count("custom_id")))
    new_by_day = {row["day"]: row["new"] for row in first_clicks}
    running = 0
    for row in per_day:
        running += new_by_day.get(row["day"], 0)
        row["rate"] = round(100 * running / recipients, 1)
    unique = clicks.values("custom_id").distinct().count()
    return {"recipients": recipients, "clicks": clicks.count(), "clickers": unique,
            "rate": round(100 * unique / recipients, 1), "per_day": per_day}


def click_condition_q(campaign: Campaign) -> Q:
    """Contacts allowed by the campaign's click condition (all when it has none): those who
    clicked a link of the source campaign, or who received it and did not click."""
    condition = ClickCondition.objects.filter(campaign_id=campaign.pk).first()
    if condition is None:
        return Q()
    received = Message.objects.filter(campaign_id=condition.source_id, contact=OuterRef("pk"))
    clicked = received.filter(custom_id__in=LinkClick.objects.filter(campaign_id=condition.source_id)
                              .values("custom_id"))
    if condition.clicked:
        return Q(Exists(clicked))
    return Q(Exists(received)) & ~Q(Exists(clicked))
