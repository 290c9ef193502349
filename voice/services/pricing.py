"""Voice pricing (View Pricing (Engage)) and bulk call cost estimates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from core.bics import get_client
from core.phones import PhoneError, normalise_phone
from voice.models import VoicePrice


def pricing_pull() -> int:
    """Replace our copy of the voice price list with BICS's (all pages). Returns rows kept."""
    rows = {}
    for item in get_client().iterate("voice.pricing.list"):
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
    try:
        return normalise_phone(number)[1]
    except PhoneError:
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
    return estimate_counts(Counter(region_of(n) for n in numbers))


def estimate_counts(counts: Counter) -> Estimate:
    """The estimate for {ISO region: number of calls}; "" is a region we could not tell."""
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
