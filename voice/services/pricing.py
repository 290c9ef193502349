"""Voice pricing (View Pricing (Engage)) and bulk call cost estimates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from voice.models import VoicePrice
from voice.services._common import client


def pricing_pull() -> int:
    """Replace our copy of the voice price list with BICS's (all pages). Returns rows kept."""
    rows = {}
    for item in client().iterate("voice.pricing.list"):
        try:
            price = Decimal(str(item.get("price")))
        except (InvalidOperation, TypeError):
            continue
        iso = str(item.get("iso") or "").upper()[:2]
        if not iso:
            continue
        key = (iso, str(item.get("service") or "")[:20], str(item.get("subservice") or "")[:20])
        rows[key] = VoicePrice(iso=iso, service=key[1], subservice=key[2], price=price,
                               country=str(item.get("country") or "")[:100],
                               currency=str(item.get("currency") or "")[:3],
                               status=str(item.get("status") if item.get("status") is not None else "")[:2],
                               raw=item)
    with transaction.atomic():
        VoicePrice.objects.all().delete()
        VoicePrice.objects.bulk_create(rows.values())
    return len(rows)


def region_of(number: str) -> str:
    import phonenumbers

    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or ""
    except phonenumbers.NumberParseException:
        return ""


def price_for(iso: str) -> VoicePrice | None:
    """The price of one call to ``iso``: the active row first, the lowest one if several."""
    rows = list(VoicePrice.objects.filter(iso=iso.upper()).order_by("price"))
    active = [r for r in rows if r.status in ("", "1")]
    return (active or rows or [None])[0]


@dataclass
class Estimate:
    total: Decimal | None = None
    currency: str = ""
    by_country: dict = field(default_factory=dict)  # iso -> (count, unit price or None)
    unpriced: int = 0

    @property
    def complete(self) -> bool:
        return self.unpriced == 0


def bulk_estimate(*, numbers) -> Estimate:
    """Cost of calling each number once at the pulled per-call price (minutes unknown: the
    price list gives one price per country; a flow's length is not known beforehand)."""
    counts = Counter(region_of(n) for n in numbers)
    estimate = Estimate()
    total = Decimal(0)
    priced = False
    for iso, count in sorted(counts.items()):
        row = price_for(iso) if iso else None
        estimate.by_country[iso or "?"] = (count, row.price if row else None)
        if row is None:
            estimate.unpriced += count
            continue
        priced = True
        total += row.price * count
        estimate.currency = estimate.currency or row.currency
    estimate.total = total if priced else None
    return estimate


@dataclass
class AudienceSummary:
    reachable: int = 0
    excluded: int = 0
    estimate: Estimate = field(default_factory=Estimate)


def bulk_audience_summary(bulk) -> AudienceSummary:
    """Who a draft bulk call would reach and what it would cost, counted in the database for
    segments and tags (one grouped query, no rows loaded); uploaded lists are read."""
    from django.db.models import Count, Exists, OuterRef

    from contacts.models import Contact
    from voice.models import BulkCall, VoiceUnsubscriber
    from voice.services.bulk import _contacts, bulk_audience

    if bulk.audience_kind == BulkCall.AudienceKind.UPLOAD:
        audience = bulk_audience(bulk)
        numbers = [t.to for t in audience.targets]
        return AudienceSummary(len(numbers), len(audience.excluded), bulk_estimate(numbers=numbers))
    contacts = Contact.objects.filter(pk__in=_contacts(bulk).values("pk"))
    opted = Exists(VoiceUnsubscriber.objects.filter(number=OuterRef("phone")))
    excluded = contacts.filter(opted).count()
    by_country = Counter(dict(contacts.exclude(opted).order_by().values_list("country").annotate(n=Count("pk"))))
    if by_country.get(""):  # contacts saved without their region: derive it from the number
        del by_country[""]
        by_country.update(region_of(phone) for phone in contacts.exclude(opted).filter(country="")
                          .values_list("phone", flat=True).iterator(chunk_size=2000))
    summary = AudienceSummary(sum(by_country.values()), excluded)
    total, priced = Decimal(0), False
    for iso, count in sorted(by_country.items()):
        row = price_for(iso) if iso else None
        summary.estimate.by_country[iso or "?"] = (count, row.price if row else None)
        if row is None:
            summary.estimate.unpriced += count
            continue
        priced = True
        total += row.price * count
        summary.estimate.currency = summary.estimate.currency or row.currency
    summary.estimate.total = total if priced else None
    return summary
