"""Selectors of the frequency cap: which cap applies, whether a campaign is promotional, who
is over the cap now (the preview's count), and who a launch left out (the writer's exclusion).
The reservation at launch is ``services.frequency_caps``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from messaging.campaigns.models import Campaign, CapExclusion, FrequencyCap, PromotionalSend

PROMOTIONAL, TRANSACTIONAL = "promotional", "transactional"
# WhatsApp/Viber template categories that are not marketing (their template payloads).
NON_MARKETING = {"utility", "authentication", "transaction", "transactional"}


def traffic_kind(campaign: Campaign) -> str:
    """The campaign's own choice (the wizard's schedule step), else its template's."""
    return campaign.traffic or template_traffic_kind(campaign)


def template_traffic_kind(campaign: Campaign) -> str:
    """What the template says: SMS type P (promotional) or T/SI/SE; WhatsApp/Viber: any
    category but utility/authentication/transaction is marketing."""
    template = campaign.template
    if campaign.channel == "sms":
        return PROMOTIONAL if template.template_type == "P" else TRANSACTIONAL
    category = str((template.channel_payload or {}).get("category") or "").lower()
    return TRANSACTIONAL if category in NON_MARKETING else PROMOTIONAL


def active_cap() -> FrequencyCap | None:
    return FrequencyCap.objects.filter(active=True).order_by("pk").first()


def cap_for(campaign: Campaign) -> FrequencyCap | None:
    """The cap that applies to ``campaign``: None for transactional traffic or without a cap."""
    if traffic_kind(campaign) != PROMOTIONAL:
        return None
    return active_cap()


def period_start(cap: FrequencyCap, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=cap.period_days)


def over_cap_ids(cap: FrequencyCap, *, exclude_campaign: int | None = None, since: datetime | None = None):
    """Contact ids with ``max_messages`` or more promotional sends in the period (a GROUP BY
    subquery, never loaded into Python)."""
    sends = PromotionalSend.objects.filter(at__gt=since or period_start(cap))
    if exclude_campaign is not None:
        sends = sends.exclude(campaign_id=exclude_campaign)
    return sends.values("contact_id").annotate(n=Count("id")).filter(n__gte=cap.max_messages).values("contact_id")


def capped_count(campaign: Campaign, eligible: QuerySet) -> int:
    """How many of ``eligible`` the cap would leave out if the campaign launched now."""
    cap = cap_for(campaign)
    if cap is None:
        return 0
    return eligible.filter(pk__in=over_cap_ids(cap, exclude_campaign=campaign.pk)).count()


def without_capped(campaign: Campaign, eligible: QuerySet) -> QuerySet:
    """``eligible`` without whom the cap would leave out if the campaign launched now."""
    cap = cap_for(campaign)
    if cap is None:
        return eligible
    return eligible.exclude(pk__in=over_cap_ids(cap, exclude_campaign=campaign.pk))


def cap_excluded_q(campaign: Campaign) -> Q:
    """Contacts the launch left out for the cap (``CapExclusion``); none before the launch."""
    return Q(Exists(CapExclusion.objects.filter(campaign_id=campaign.pk, contact=OuterRef("pk"))))
