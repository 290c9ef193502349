"""Pricing per country and service, and the account balance: pulled from BICS, stored."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from core.sync import bics_iterate, bics_request
from messaging.catalogue.models import AccountBalance, Channel, Price

PRICING_ROUTES = {Channel.SMS: "sms.pricing.list", Channel.WHATSAPP: "whatsapp.pricing.list",
                  Channel.VIBER: "viber.pricing.list"}


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", "."))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _s(value) -> str:
    return "" if value is None else str(value)


@transaction.atomic
def pricing_pull(*, channels=None) -> dict[str, int]:
    """Upsert every price row of each channel. Returns {channel: rows seen}."""
    now = timezone.now()
    seen: dict[str, int] = {}
    for channel in channels or PRICING_ROUTES:
        count = 0
        for item in bics_iterate(PRICING_ROUTES[channel]):
            price = _decimal(item.get("price"))
            iso = _s(item.get("iso")).upper()[:2]
            if price is None or not iso:
                continue
            Price.objects.update_or_create(
                channel=channel, iso=iso, service=_s(item.get("service")),
                subservice=_s(item.get("subservice")),
                defaults={"country": _s(item.get("country")), "price": price,
                          "currency": _s(item.get("currency"))[:3], "status": _s(item.get("status")),
                          "raw": item, "fetched_at": now},
            )
            count += 1
        seen[str(channel)] = count
    return seen


def balance_pull() -> AccountBalance | None:
    data = bics_request("account.balance.get")
    if isinstance(data, list):
        data = data[0] if data else {}
    amount = _decimal((data or {}).get("balance"))
    if amount is None:
        return None
    return AccountBalance.objects.create(balance=amount, currency=_s(data.get("currency"))[:3],
                                         raw=data, fetched_at=timezone.now())


PRICING_JOB = "pricing"  # a sync run (core.sync_runs): the price lists and the balance


def pricing_and_balance_pull(ids: list[int] | None = None) -> dict[str, int]:
    """The sync run ``PRICING_JOB``: every channel's price list, then the account balance."""
    counts = {f"{channel} prices": seen for channel, seen in pricing_pull().items()}
    counts["balance"] = int(balance_pull() is not None)
    return counts
