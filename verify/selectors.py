"""Read queries for Verify."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from verify.models import ApiClient, OtpRequest, OtpStatus

# Requests that reached BICS: the base of the success and expiry rates.
DELIVERED = (
    OtpStatus.SENT,
    OtpStatus.SUCCESS,
    OtpStatus.FAILED,
    OtpStatus.EXPIRED,
    OtpStatus.INVALID,
    OtpStatus.ALREADY_VERIFIED,
    OtpStatus.CANCELLED,
)


def otp_requests_for_client(*, api_client: ApiClient) -> QuerySet[OtpRequest]:
    return OtpRequest.objects.filter(api_client=api_client)


def otp_get_for_client(*, api_client: ApiClient, public_id) -> OtpRequest | None:
    return otp_requests_for_client(api_client=api_client).filter(public_id=public_id).first()


@dataclass(frozen=True)
class RateRow:
    day: date | None  # None: the whole period
    requests: int
    sent: int
    verified: int
    expired: int
    wrong_code: int
    cancelled: int
    errors: int

    @property
    def success_rate(self) -> float | None:
        return self.verified / self.sent if self.sent else None

    @property
    def expiry_rate(self) -> float | None:
        return self.expired / self.sent if self.sent else None


_AGGREGATES = {
    "requests": Count("id"),
    "sent": Count("id", filter=Q(status__in=DELIVERED)),
    "verified": Count("id", filter=Q(status=OtpStatus.SUCCESS)),
    "expired": Count("id", filter=Q(status=OtpStatus.EXPIRED)),
    "wrong_code": Count("id", filter=Q(status=OtpStatus.INVALID)),
    "cancelled": Count("id", filter=Q(status=OtpStatus.CANCELLED)),
    "errors": Count("id", filter=Q(status=OtpStatus.ERROR)),
}


def otp_rates(*, days: int = 14) -> list[RateRow]:
    """Success and expiry rates per day for the last `days` days, newest first, then the total."""
    since = timezone.now() - timedelta(days=days)
    qs = OtpRequest.objects.filter(created_at__gte=since)
    rows = [
        RateRow(day=row.pop("day"), **row)
        for row in qs.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(**_AGGREGATES)
        .order_by("-day")
    ]
    total = qs.aggregate(**_AGGREGATES)
    rows.append(RateRow(day=None, **total))
    return rows
