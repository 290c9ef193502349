"""BICS timestamps, once: 'YYYY-MM-DD hh:mm:ss' without a zone, in ``settings.BICS_TIME_ZONE``.

The documentation's timestamps carry no zone (e.g. Send OTP's `expire_at`, the call logs'
`start_at`); some answers carry ISO 8601 with 'T', a fraction, 'Z' or an offset, which wins
when present. Dates ('YYYY-MM-DD') are the report filters' form.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

__all__ = ["BICS_DATE_FORMAT", "BICS_TIME_FORMAT", "bics_zone", "format_bics_date", "format_bics_time",
           "parse_bics_time"]

BICS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
BICS_DATE_FORMAT = "%Y-%m-%d"
_FALLBACK_FORMATS = (BICS_TIME_FORMAT, "%Y-%m-%dT%H:%M:%S", BICS_DATE_FORMAT)


def bics_zone() -> ZoneInfo:
    return ZoneInfo(settings.BICS_TIME_ZONE)


def parse_bics_time(value) -> datetime | None:
    """An aware datetime from a BICS timestamp; None when empty or unreadable.

    A naive value is in BICS's zone; an explicit zone ('Z', '+02:00') is kept.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        parsed = _parse_text(value.strip())
        if parsed is None:
            return None
    else:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=bics_zone())
    return parsed


def _parse_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in _FALLBACK_FORMATS:  # e.g. '2024-05-01 10:00:00 extra' or a 1-digit hour
        try:
            return datetime.strptime(text[:19], fmt)  # naive: the caller adds the zone
        except ValueError:
            continue
    return None


def format_bics_time(value: datetime) -> str:
    """An aware datetime as BICS writes it, in BICS's zone."""
    return timezone.localtime(value, bics_zone()).strftime(BICS_TIME_FORMAT)


def format_bics_date(value: date | datetime) -> str:
    """'YYYY-MM-DD' of a date, or of an aware datetime's day in BICS's zone."""
    if isinstance(value, datetime):
        return timezone.localtime(value, bics_zone()).strftime(BICS_DATE_FORMAT)
    return value.strftime(BICS_DATE_FORMAT)
