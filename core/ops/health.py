"""Health checks for /healthz: the database, Redis and the BICS endpoint."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)
BICS_CACHE_KEY = "healthz:bics"


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_redis() -> dict:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return {"ok": None, "detail": "broker is not Redis"}
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True}


def check_bics(force: bool = False) -> dict:
    """Reachability and authentication of the BICS endpoint, cached: each GET spends budget."""
    if not force:
        cached = cache.get(BICS_CACHE_KEY)
        if cached is not None:
            return {**cached, "cached": True}
    result = _probe_bics()
    cache.set(BICS_CACHE_KEY, result, settings.HEALTHZ_BICS_CACHE_SECONDS)
    return {**result, "cached": False}


def _probe_bics() -> dict:
    from bics.errors import BicsAuthError, BicsError, BicsTransportError
    from core.bics import get_client

    result = {
        "sandbox": settings.BICS_USE_SANDBOX,
        "reachable": False,
        "authenticated": False,
        "checked_at": time.time(),
    }
    if not settings.BICS_API_TOKEN:
        result["error"] = "BICS_API_TOKEN is not set"
        return result
    try:
        client = get_client()
        client.call("auth.me")
        result.update(reachable=True, authenticated=True)
    except BicsAuthError:
        result.update(reachable=True, error="BICS refused the token (401/403)")
    except BicsTransportError as exc:
        result["error"] = f"BICS endpoint unreachable ({exc.__class__.__name__})"
    except BicsError as exc:
        result.update(reachable=True, error=f"BICS answered HTTP {exc.http_status}")
    else:
        expires = getattr(client, "token_expires_at", None)
        result["token_expires_at"] = expires.isoformat() if expires else None
    return result
