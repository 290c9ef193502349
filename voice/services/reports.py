"""Call Logs and Call Recordings reports, pulled for a date range.

Both take a range written 'Apr 01, 2021 - Apr 12, 2021' (their documented samples) and page through
``links``/``meta`` (the client walks every page).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from core.bics import get_client
from core.bics_time import parse_bics_time
from core.phones import e164_from_bics
from voice.models import CallLog, CallRecording
from voice.services._common import as_int


def date_range(start: date, end: date) -> str:
    return f"{start.strftime('%b %d, %Y')} - {end.strftime('%b %d, %Y')}"


def _default_range(start, end):
    end = end or timezone.localdate()
    start = start or end - timedelta(days=1)
    if start > end:
        raise ValueError("The start date is after the end date.")
    return start, end


def call_logs_pull(*, start: date | None = None, end: date | None = None) -> dict:
    """Upsert the call logs of [start, end] (default: yesterday and today) by BICS id."""
    start, end = _default_range(start, end)
    created = updated = skipped = 0
    for item in get_client().iterate("voice.call_logs.list", params={"datetime[end_at]": date_range(start, end)}):
        bics_id = item.get("id")
        if bics_id in (None, ""):
            skipped += 1
            continue
        values = {
            "caller_id": e164_from_bics(item.get("caller_id")) if str(item.get("caller_id") or "").strip("+").isdigit()
            else str(item.get("caller_id") or "")[:32],
            "to": e164_from_bics(item.get("to")), "bridge": e164_from_bics(item.get("bridge")),
            "status": str(item.get("status") or "").upper()[:12],
            "start_at": parse_bics_time(item.get("start_at")), "end_at": parse_bics_time(item.get("end_at")),
            "duration": as_int(item.get("duration")), "billing": as_int(item.get("billing")),
            "hangup_by": str(item.get("hangup_by") or "")[:50], "country": str(item.get("country") or "")[:10],
            "raw": item,
        }
        with transaction.atomic():
            _, was_created = CallLog.objects.update_or_create(bics_id=str(bics_id), defaults=values)
        created += was_created
        updated += not was_created
    return {"created": created, "updated": updated, "skipped": skipped}


def recording_fields(item: dict) -> dict:
    """A report row as model fields; a URL that is not http(s) is dropped (it is shown as a link)."""
    url = str(item.get("url") or "")
    return {"call_id": str(item.get("call_id") or "")[:64],
            "url": url if url.startswith(("http://", "https://")) else "",
            "duration": as_int(item.get("duration")),
            "created_at": parse_bics_time(item.get("created_at")), "raw": item}


def recordings_pull(*, start: date | None = None, end: date | None = None) -> dict:
    start, end = _default_range(start, end)
    created = updated = skipped = 0
    params = {"datetime[r.created_at]": date_range(start, end)}
    for item in get_client().iterate("voice.recordings.list", params=params):
        bics_id = item.get("id")
        if bics_id in (None, ""):
            skipped += 1
            continue
        with transaction.atomic():
            _, was_created = CallRecording.objects.update_or_create(bics_id=str(bics_id),
                                                                    defaults=recording_fields(item))
        created += was_created
        updated += not was_created
    return {"created": created, "updated": updated, "skipped": skipped}
