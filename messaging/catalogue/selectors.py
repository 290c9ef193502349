"""Read queries for the messaging catalogue."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet

from messaging.catalogue.models import AccountBalance, Channel, Price, Sender, Template


def unit_price(*, channel: str = Channel.SMS, iso: str, service: str = "") -> Decimal | None:
    """The known price of one message unit to ``iso`` for ``service`` (None when unknown)."""
    prices = Price.objects.filter(channel=channel, iso=(iso or "").upper())
    if service:
        exact = prices.filter(service=service).order_by("subservice").first()
        if exact:
            return exact.price
    row = prices.order_by("service", "subservice").first() if not service else None
    return row.price if row else None


def sender_unit_price(sender: Sender | None) -> Decimal | None:
    if sender is None:
        return None
    return unit_price(channel=Channel.SMS, iso=sender.country_code, service=sender.service)


def latest_balance() -> AccountBalance | None:
    return AccountBalance.objects.order_by("-fetched_at").first()


def templates_waiting_for_approval() -> QuerySet[Template]:
    return Template.objects.filter(approval_state=Template.Approval.SUBMITTED).select_related("author", "sender")


def templates_rejected() -> QuerySet[Template]:
    return Template.objects.filter(approval_state=Template.Approval.REJECTED).select_related("author")


def prices() -> QuerySet[Price]:
    return Price.objects.all().order_by("channel", "iso", "service", "subservice")
