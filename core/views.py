from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health


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


@login_required
def home(request):
    # The staff dashboard replaces this redirect (staff experience issue).
    return redirect("admin:index")
