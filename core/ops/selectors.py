"""Read queries of the staff dashboard.

The heavy figures (volumes, delivery rate, the daily chart) are aggregates over ``Message``;
they are cached for ``DASHBOARD_CACHE_SECONDS`` so a busy dashboard never re-counts a large
table on every load. Per-user parts (templates to approve, rejected templates) are not cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from messaging.campaigns import dlr_codes
from messaging.campaigns.models import Campaign, Message
from messaging.catalogue.models import AccountBalance, Template

CHANNELS = (("sms", "SMS"), ("whatsapp", "WhatsApp"), ("viber", "Viber"))
DELIVERED = ("delivered", "read")
FAILED = ("failed", "rejected", "expired")
FINAL = DELIVERED + FAILED
APPROVE_PERMISSION = "messaging.approve_template"


def _setting(name: str, default):
    return getattr(settings, name, default)


# --------------------------------------------------------------------------- balance
@dataclass
class Balance:
    amount: object  # Decimal
    currency: str
    fetched_at: datetime
    threshold: float
    low: bool


def account_balance() -> Balance | None:
    row = AccountBalance.objects.order_by("-fetched_at").first()
    if row is None:
        return None
    threshold = float(_setting("BALANCE_WARNING_THRESHOLD", 50.0))
    return Balance(row.balance, row.currency, row.fetched_at, threshold, float(row.balance) < threshold)


# --------------------------------------------------------------------------- volumes
def period_starts(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start of today and of this month, in the site's time zone."""
    local = timezone.localtime(now or timezone.now())
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


def _by_channel(qs) -> dict[str, dict]:
    rows = (
        qs.order_by()
        .values("channel")
        .annotate(
            total=Count("pk"),
            delivered=Count("pk", filter=Q(status__in=DELIVERED)),
            final=Count("pk", filter=Q(status__in=FINAL)),
        )
    )
    out = {code: {"label": label, "total": 0, "delivered": 0, "final": 0} for code, label in CHANNELS}
    for row in rows:
        entry = out.setdefault(
            row["channel"], {"label": row["channel"], "total": 0, "delivered": 0, "final": 0}
        )
        entry.update(total=row["total"], delivered=row["delivered"], final=row["final"])
    return out


def rate(delivered: int, final: int) -> float | None:
    return round(100 * delivered / final, 1) if final else None


def volumes(now: datetime | None = None) -> dict:
    """Messages created today and this month, by channel, with the delivery rate of the
    messages whose outcome is known (delivered or read / every final status)."""
    day, month = period_starts(now)
    key = f"dashboard:volumes:{day.date().isoformat()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    today = _by_channel(Message.objects.filter(created_at__gte=day))
    this_month = _by_channel(Message.objects.filter(created_at__gte=month))
    rows = [
        {
            "channel": code,
            "label": today[code]["label"],
            "today": today[code]["total"],
            "month": this_month[code]["total"],
            "rate": rate(this_month[code]["delivered"], this_month[code]["final"]),
        }
        for code in today
    ]
    delivered = sum(v["delivered"] for v in this_month.values())
    final = sum(v["final"] for v in this_month.values())
    data = {
        "rows": rows,
        "today_total": sum(r["today"] for r in rows),
        "month_total": sum(r["month"] for r in rows),
        "delivery_rate": rate(delivered, final),
        "delivered": delivered,
        "final": final,
    }
    cache.set(key, data, int(_setting("DASHBOARD_CACHE_SECONDS", 60)))
    return data


def daily_series(days: int = 14, now: datetime | None = None) -> dict:
    """Messages per day and channel over the last ``days`` days (the dashboard chart)."""
    day, _month = period_starts(now)
    start = day - timedelta(days=days - 1)
    key = f"dashboard:daily:{day.date().isoformat()}:{days}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    from django.db.models.functions import TruncDate

    labels = [(start + timedelta(days=i)).date() for i in range(days)]
    series = {code: [0] * days for code, _ in CHANNELS}
    rows = (
        Message.objects.filter(created_at__gte=start)
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "channel")
        .annotate(n=Count("pk"))
    )
    index = {d: i for i, d in enumerate(labels)}
    for row in rows:
        i = index.get(row["day"])
        if i is not None and row["channel"] in series:
            series[row["channel"]][i] = row["n"]
    data = {
        "labels": [d.strftime("%d %b") for d in labels],
        "datasets": [{"label": label, "channel": code, "data": series[code]} for code, label in CHANNELS],
    }
    cache.set(key, data, int(_setting("DASHBOARD_CACHE_SECONDS", 60)))
    return data


# --------------------------------------------------------------------------- campaigns
ACTIVE_STATES = ("scheduled", "sampling", "sending", "paused")


def active_campaigns(limit: int = 20) -> list[Campaign]:
    """Campaigns scheduled, sampling, sending or paused, each with ``progress`` (% of messages
    past "queued"), ``total`` and ``delivery_rate`` (two queries in all)."""
    campaigns = list(
        Campaign.objects.filter(state__in=ACTIVE_STATES)
        .select_related("template")
        .order_by("scheduled_at", "-pk")[:limit]
    )
    counts = {}
    if campaigns:
        rows = (
            Message.objects.filter(campaign__in=[c.pk for c in campaigns])
            .order_by()
            .values("campaign")
            .annotate(
                total=Count("pk"),
                queued=Count("pk", filter=Q(status="queued")),
                delivered=Count("pk", filter=Q(status__in=DELIVERED)),
                final=Count("pk", filter=Q(status__in=FINAL)),
            )
        )
        counts = {r["campaign"]: r for r in rows}
    for campaign in campaigns:
        row = counts.get(campaign.pk, {"total": 0, "queued": 0, "delivered": 0, "final": 0})
        campaign.total = row["total"]
        campaign.progress = (
            round(100 * (row["total"] - row["queued"]) / row["total"], 1) if row["total"] else 0.0
        )
        campaign.delivery_rate = rate(row["delivered"], row["final"])
    return campaigns


# --------------------------------------------------------------------------- templates
def can_approve(user) -> bool:
    return bool(user and user.has_perm(APPROVE_PERMISSION))


def templates_to_approve(user, limit: int = 20):
    """Templates waiting for a decision, for approvers; their own are marked (four eyes)."""
    if not can_approve(user):
        return Template.objects.none()
    return (
        Template.objects.filter(approval_state=Template.Approval.SUBMITTED)
        .select_related("author")
        .order_by("submitted_at", "pk")[:limit]
    )


def templates_rejected_for(user, limit: int = 20):
    """The user's own rejected templates, with the approver's reason."""
    return Template.objects.filter(approval_state=Template.Approval.REJECTED, author=user).order_by(
        "-updated_at", "-pk"
    )[:limit]


# --------------------------------------------------------------------------- failures
def recent_failures(limit: int = 10, days: int = 7):
    """The last failed, rejected or expired messages with the documented reason (the DLR
    code table), newest first."""
    since = timezone.now() - timedelta(days=days)
    rows = list(
        Message.objects.filter(status__in=FAILED, status_at__gte=since)
        .select_related("campaign")
        .order_by("-status_at", "-pk")[:limit]
    )
    for row in rows:
        row.reason = row.error_description or dlr_codes.describe(row.bics_status, row.error_code)
    return rows


def failure_reasons(days: int = 7, limit: int = 5) -> list[dict]:
    """The most frequent failure reasons of the last ``days`` days."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Message.objects.filter(status__in=FAILED, status_at__gte=since)
        .order_by()
        .values("bics_status", "error_code")
        .annotate(n=Count("pk"))
        .order_by("-n")[:limit]
    )
    return [
        {
            "status": r["bics_status"],
            "code": r["error_code"],
            "count": r["n"],
            "description": dlr_codes.describe(r["bics_status"], r["error_code"]),
        }
        for r in rows
    ]


# --------------------------------------------------------------------------- sync runs
def recent_sync_runs(limit: int = 5) -> list[dict]:
    """The last pushes and pulls (admin actions and beat), newest first, as plain dicts (the
    dashboard renders them and its script polls them while one is queued or running)."""
    from core.models import SyncRun

    rows = SyncRun.objects.select_related("requested_by").order_by("-created_at", "-pk")[:limit]
    return [
        {
            "id": r.pk,
            "resource": r.resource,
            "direction": r.get_direction_display(),
            "state": r.state,
            "state_display": r.get_state_display(),
            "summary": r.summary,
            "by": r.requested_by.get_username() if r.requested_by else "beat",
            "created_at": timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
        }
        for r in rows
    ]
