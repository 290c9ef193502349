"""Operational alerts: repeated sync failures, DLR lag, an exhausted GET budget, a token close
to expiry, a balance under its threshold.

``alerts_check`` (beat, every ALERT_CHECK_SECONDS) evaluates every condition, stores the
active alerts in the cache under ``ALERTS_CACHE_KEY`` (the dashboard reads them with
``active_alerts()``), and e-mails ``ALERT_EMAILS`` (default: ``ADMINS``) when an alert starts,
once per alert until it clears. No model: the cache is the dashboard's source; the e-mail is
the durable trace.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import timezone

log = logging.getLogger(__name__)
ALERTS_CACHE_KEY = "core:alerts"
MAILED_CACHE_KEY = "core:alerts:mailed"


@dataclass
class Alert:
    key: str  # sync_failures | dlr_lag | get_budget | token_expiry | balance
    level: str  # warning | critical
    message: str
    since: str = ""


def _setting(name: str, default):
    return getattr(settings, name, default)


def check_sync_failures() -> Alert | None:
    """The last ALERT_SYNC_FAILURES runs of one resource and direction all failed."""
    from core.models import SyncRun

    threshold = int(_setting("ALERT_SYNC_FAILURES", 3))
    failing = []
    pairs = SyncRun.objects.values_list("resource", "direction").distinct()
    for resource, direction in pairs:
        last = list(SyncRun.objects.filter(resource=resource, direction=direction)
                    .exclude(state__in=["queued", "running"]).order_by("-created_at")
                    .values_list("state", flat=True)[:threshold])
        if len(last) == threshold and all(s == "failed" for s in last):
            failing.append(f"{resource} ({direction})")
    if not failing:
        return None
    return Alert("sync_failures", "warning",
                 f"The last {threshold} syncs failed for: {', '.join(sorted(failing))}. See Sync runs in the admin.")


def check_dlr_lag(now: datetime | None = None) -> Alert | None:
    """Messages submitted longer than ALERT_DLR_LAG_MINUTES ago with no final status."""
    from messaging.campaigns.models import Message

    now = now or timezone.now()
    minutes = int(_setting("ALERT_DLR_LAG_MINUTES", 60))
    late = Message.objects.filter(status="submitted", submitted_at__lt=now - timedelta(minutes=minutes))
    count = late.count()
    if count < int(_setting("ALERT_DLR_LAG_MIN_MESSAGES", 10)):
        return None
    oldest = late.order_by("submitted_at").values_list("submitted_at", flat=True).first()
    age = int((now - oldest).total_seconds() // 60) if oldest else minutes
    return Alert("dlr_lag", "warning",
                 f"{count} messages have waited more than {minutes} min for a delivery report "
                 f"(oldest: {age} min). Is the DLR poll running?")


def budget_used() -> tuple[int, int] | None:
    """(GETs in the last window, budget) of the shared BICS GET budget, without taking one."""
    from core.bics import get_client

    usage = getattr(get_client().rate_limiter, "usage", None)  # core.ratelimit.Budget
    return usage() if usage else None


def check_get_budget() -> Alert | None:
    figures = budget_used()
    if not figures:
        return None
    used, rate = figures
    if used < rate * float(_setting("ALERT_GET_BUDGET_RATIO", 0.95)):
        return None
    return Alert("get_budget", "critical" if used >= rate else "warning",
                 f"The BICS GET budget is exhausted: {used} of {rate} GETs in the last minute. "
                 "Pulls and DLR polls wait; lower CAMPAIGN_DLR_POLL_MAX_GETS or the sync frequency.")


def check_token_expiry(now: datetime | None = None) -> Alert | None:
    from core.bics import get_client

    expires = getattr(get_client(), "token_expires_at", None)
    if expires is None:
        return None
    now = now or datetime.now(UTC)
    days = float(_setting("ALERT_TOKEN_EXPIRY_DAYS", 7))
    left = expires - now
    if left > timedelta(days=days):
        return None
    when = "has expired" if left.total_seconds() <= 0 else f"expires in {left.days} d {left.seconds // 3600} h"
    return Alert("token_expiry", "critical" if left.total_seconds() <= 0 else "warning",
                 f"The BICS access token {when} ({expires:%Y-%m-%d %H:%M} UTC). Create a new one in the "
                 "BICS portal and set BICS_API_TOKEN.")


def check_balance() -> Alert | None:
    from messaging.catalogue.models import AccountBalance

    latest = AccountBalance.objects.order_by("-fetched_at").first()
    if latest is None:
        return None
    threshold = Decimal(str(_setting("BALANCE_WARNING_THRESHOLD", 50)))
    if latest.balance >= threshold:
        return None
    return Alert("balance", "critical" if latest.balance <= 0 else "warning",
                 f"The BICS balance is {latest.balance} {latest.currency}".strip()
                 + f", under the threshold of {threshold}. Add credits before the next campaign.")


CHECKS = (check_sync_failures, check_dlr_lag, check_get_budget, check_token_expiry, check_balance)


def alerts_check(*, notify: bool = True) -> list[Alert]:
    """Evaluate every condition; store the active alerts for the dashboard; mail new ones."""
    previous = {a["key"]: a for a in cache.get(ALERTS_CACHE_KEY, [])}
    active: list[Alert] = []
    for check in CHECKS:
        try:
            alert = check()
        except Exception:  # one broken check must not hide the others
            log.exception("alert check %s failed", check.__name__)
            continue
        if alert is not None:
            alert.since = previous.get(alert.key, {}).get("since") or timezone.now().isoformat()
            active.append(alert)
    cache.set(ALERTS_CACHE_KEY, [asdict(a) for a in active], timeout=None)
    mailed = set(cache.get(MAILED_CACHE_KEY, []))
    new = [a for a in active if a.key not in mailed]
    if notify and new:
        recipients = list(_setting("ALERT_EMAILS", [])) or [email for _, email in settings.ADMINS]
        if recipients:
            body = "\n\n".join(f"[{a.level.upper()}] {a.message}" for a in new)
            try:
                send_mail(f"BICS back-office: {len(new)} new alert(s)", body, None, recipients)
            except Exception:
                log.exception("could not e-mail %d alert(s)", len(new))
            else:
                mailed |= {a.key for a in new}
        else:
            log.warning("alerts without recipients (set ALERT_EMAILS or DJANGO_ADMINS): %s",
                        "; ".join(a.message for a in new))
    mailed &= {a.key for a in active}  # a cleared alert mails again when it comes back
    cache.set(MAILED_CACHE_KEY, sorted(mailed), timeout=None)
    return active


def active_alerts() -> list[dict]:
    """What the dashboard shows: [{key, level, message, since}], newest check."""
    return cache.get(ALERTS_CACHE_KEY, [])
