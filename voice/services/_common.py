"""Small helpers shared by the voice services: the BICS client, times, numbers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

BICS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def client():
    from core.bics import get_client

    return get_client()


def bics_zone() -> ZoneInfo:
    return ZoneInfo(settings.BICS_TIME_ZONE)


def parse_time(value) -> datetime | None:
    """'YYYY-MM-DD hh:mm:ss' in BICS time (Voice › Call Status samples) -> an aware datetime; None if unreadable."""
    if not value or not isinstance(value, str):
        return None
    for fmt in (BICS_TIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(value[:19], fmt)  # noqa: DTZ007 - zone added below
        except ValueError:
            continue
        return parsed.replace(tzinfo=bics_zone())
    return None


def to_bics_date(value) -> str:
    return timezone.localtime(value, bics_zone()).strftime("%Y-%m-%d") if isinstance(value, datetime) \
        else value.strftime("%Y-%m-%d")


def as_int(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def e164(number: str | None) -> str:
    """'+32470…' from '32470…', '+32 470…' or '0032470…'."""
    if not number:
        return ""
    digits = "".join(ch for ch in str(number) if ch.isdigit())
    if str(number).strip().startswith("00"):
        digits = digits[2:]
    return f"+{digits}" if digits else ""
