from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.ops import alerts, health, selectors, tables


@never_cache
@require_GET
def healthz(request):
    """Load balancer probe: 200 while the database answers, 503 otherwise. No secrets here."""
    database = health.check_database()
    body = {
        "status": "ok" if database["ok"] else "error",
        "database": database,
        "redis": health.check_redis(),
        "bics": health.check_bics(),
    }
    return JsonResponse(body, status=200 if database["ok"] else 503)


@staff_member_required
@require_GET
def home(request):
    """The staff dashboard: balance, volumes, delivery rate, active campaigns, templates to
    decide or fix, recent failures."""
    user = request.user
    volumes = selectors.volumes()
    waiting = selectors.templates_to_approve(user)
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "balance": selectors.account_balance(),
        "volumes": volumes,
        "volume_table": tables.ChannelVolumeTable(volumes["rows"]),
        "chart": selectors.daily_series(),
        "campaign_table": tables.ActiveCampaignTable(selectors.active_campaigns()),
        "can_approve": selectors.can_approve(user),
        "waiting_table": tables.TemplateTable(waiting, user=user),
        "rejected_table": tables.RejectedTemplateTable(selectors.templates_rejected_for(user)),
        "failure_table": tables.FailureTable(selectors.recent_failures(), user=user),
        "failure_reasons": selectors.failure_reasons(),
        "sync_runs": selectors.recent_sync_runs(),
        "alerts": alerts.active_alerts(),
    }
    return render(request, "ops/dashboard.html", context)


@staff_member_required
@require_GET
def sync_runs_json(request):
    """The dashboard polls this while a push or pull is queued or running."""
    return JsonResponse({"runs": selectors.recent_sync_runs()})
