"""Read queries behind the campaign page's charts: statuses over time, and delivery and
failure by country and by operator (the ``location`` and ``provider`` fields of the DLR,
per the Help section's DLR sample), each failure with its documented reason."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncMinute, TruncSecond
from django.utils import timezone

from messaging.campaigns import dlr_codes
from messaging.campaigns.models import Campaign, DeliveryReport, Message
from messaging.catalogue.models import AccountBalance, Price

FAILED = ("failed", "rejected", "expired")
# Stacked from the bottom: what is settled first, then what is still moving.
SERIES = (("delivered", "Delivered"), ("read", "Read"), ("failed", "Failed"), ("rejected", "Rejected"),
          ("expired", "Expired"), ("unknown", "Outcome unknown"), ("submitted", "Awaiting a DLR"),
          ("queued", "Queued"))
MAX_POINTS = 48


def _counts_by_time(qs, field: str, trunc, *, by_status: bool = False) -> list[tuple]:
    keys = ("m", "status") if by_status else ("m",)
    rows = (qs.annotate(m=trunc(field)).order_by().values(*keys).annotate(n=Count("pk")))
    return [(r["m"], r.get("status"), r["n"]) for r in rows if r["m"] is not None]


def _span(campaign: Campaign, messages) -> tuple[datetime, datetime] | None:
    start = campaign.launched_at or messages.aggregate(at=Min("submitted_at"))["at"]
    if start is None:
        return None
    busy = campaign.state in ("scheduled", *Campaign.ACTIVE_STATES, "paused") or \
        messages.filter(status__in=("queued", "submitted")).exists()
    end = timezone.now()
    if not busy:  # a finished campaign: up to its last status change, not a flat line to today
        last = messages.exclude(status_at=None).order_by("-status_at").values_list("status_at", flat=True).first()
        end = max(filter(None, (last, campaign.finished_at, start)))
    return start, max(end, start + timedelta(minutes=1))


def status_timeline(campaign: Campaign) -> dict:
    """How many messages were in each status at each point from launch to now (or to the
    last status change of a finished campaign): ``{"labels": [...], "series": [{status,
    label, data}]}``, cumulative, for a stacked chart."""
    messages = Message.objects.filter(campaign=campaign)
    total = messages.count()
    span = _span(campaign, messages) if total else None
    if span is None:
        return {"labels": [], "series": []}
    start, end = span
    # a campaign of a few minutes is drawn by the second, a long one by the minute
    unit = 1 if end - start < timedelta(hours=2) else 60
    step = timedelta(seconds=unit * max(1, math.ceil((end - start).total_seconds() / unit / MAX_POINTS)))
    points = [start + step * i for i in range(0, math.ceil((end - start) / step) + 2)]
    trunc = TruncSecond if unit == 1 else TruncMinute
    submitted = _counts_by_time(messages.exclude(submitted_at=None), "submitted_at", trunc)
    settled = _counts_by_time(
        messages.filter(status__in=(*FAILED, "delivered", "read", "unknown"))
        .annotate(settled_at=Coalesce("status_at", "delivered_at", "submitted_at")), "settled_at", trunc,
        by_status=True)
    series = {key: [] for key, _ in SERIES}
    for point in points:
        sent = sum(n for m, _s, n in submitted if m <= point)
        done = {key: 0 for key, _ in SERIES}
        for m, status, n in settled:
            if m <= point:
                done[status] += n
        finals = sum(done.values())
        done["submitted"] = max(sent - finals, 0)
        done["queued"] = max(total - finals - done["submitted"], 0)
        for key in series:
            series[key].append(done[key])
    form = ("%H:%M:%S" if unit == 1 else "%H:%M") if end - start < timedelta(days=1) else "%m-%d %H:%M"
    return {
        "labels": [timezone.localtime(p).strftime(form) for p in points],
        "series": [{"status": key, "label": label, "data": series[key]} for key, label in SERIES
                   if any(series[key])],
    }


def outcomes_by(campaign: Campaign, key: str, limit: int = 15) -> list[dict]:
    """Delivered, failed and awaiting messages per DLR ``location`` (country) or ``provider``
    (operator), with the most frequent documented failure reason of each."""
    reports = (DeliveryReport.objects.filter(message__campaign=campaign)
               .annotate(where=KeyTextTransform(key, "raw")).order_by())
    counts = reports.values("where", "message__status").annotate(n=Count("message", distinct=True))
    rows: dict[str, dict] = {}
    for r in counts:
        name = _place(r["where"])
        row = rows.setdefault(name, {"name": name, "delivered": 0, "failed": 0, "pending": 0, "reason": ""})
        status = r["message__status"]
        bucket = "delivered" if status in ("delivered", "read") else "failed" if status in FAILED else "pending"
        row[bucket] += r["n"]
    reasons = (reports.filter(message__status__in=FAILED)
               .values("where", "message__bics_status", "message__error_code")
               .annotate(n=Count("message", distinct=True)).order_by("-n"))
    for r in reasons:
        row = rows.get(_place(r["where"]))
        if row is not None and not row["reason"]:
            code, status = r["message__error_code"], r["message__bics_status"]
            text = dlr_codes.describe(status, code) or status
            row["reason"] = f"{code} {status}: {text}".strip() if code else f"{status}: {text}"
    out = sorted(rows.values(), key=lambda row: -(row["delivered"] + row["failed"] + row["pending"]))[:limit]
    for row in out:
        total = row["delivered"] + row["failed"] + row["pending"]
        row["total"] = total
        row["delivered_pct"] = round(100 * row["delivered"] / total, 1) if total else 0
        row["failed_pct"] = round(100 * row["failed"] / total, 1) if total else 0
        final = row["delivered"] + row["failed"]
        row["rate"] = round(100 * row["delivered"] / final, 1) if final else None
    return out


def _place(value) -> str:
    """A DLR's location or provider; JSON null (the sandbox's provider) is not a name."""
    return value if value not in (None, "", "null") else "Not reported"


def cost_currency(channel: str) -> str:
    """The currency costs are in: the account balance's (credits are debited from it), else
    the price list's."""
    balance = AccountBalance.objects.order_by("-fetched_at").values_list("currency", flat=True).first()
    if balance:
        return balance
    return Price.objects.filter(channel=channel).exclude(currency="").values_list("currency", flat=True).first() or ""


def cost_note() -> str:
    """Why the estimate and the charged cost may differ (shown beside both)."""
    note = ("The estimate is the price list's unit price for each recipient's country × the message's parts, "
            "taken at launch; the charged cost adds up the credits BICS reports in each delivery report, "
            "so it grows as reports arrive and follows the rate BICS actually billed.")
    if getattr(settings, "BICS_USE_SANDBOX", False):
        note += " The local sandbox bills a flat rate per part, not its price list: the two differ here."
    return note
