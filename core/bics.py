"""The one place where Django settings become a `bics.client.BicsClient`: ``get_client()``.

Every app calls ``get_client()`` (no wrappers of its own); the client is shared within the
process and rebuilt when a setting it depends on changes (tests change them per test).
"""

import hashlib
import threading

from django.conf import settings

_lock = threading.Lock()
_clients: dict[tuple, object] = {}


def _settings_key() -> tuple:
    return (
        settings.BICS_API_BASE_URL,
        settings.BICS_API_TOKEN,
        settings.BICS_REFRESH_TOKEN,
        repr(sorted(settings.BICS_ROUTES.items())),
        settings.BICS_USE_QUERY_TOKEN,
        settings.BICS_USE_METHOD_OVERRIDE,
        settings.BICS_CONNECT_TIMEOUT,
        settings.BICS_READ_TIMEOUT,
        settings.BICS_RETRIES,
        settings.BICS_GET_BUDGET_PER_MINUTE,
        settings.BICS_RATE_LIMIT_REDIS_URL,
    )


def _rate_limiter():
    """The account's GET budget (documented: 1000 GETs per minute, then 429), shared by every
    process through Redis when BICS_RATE_LIMIT_REDIS_URL is set; keyed by a hash, never the token."""
    from core.ratelimit import Budget, RateLimiter, get_limiter

    account = hashlib.sha256(settings.BICS_API_TOKEN.encode()).hexdigest()[:16]
    url = settings.BICS_RATE_LIMIT_REDIS_URL
    # In process, the count lives with the client (rebuilt when a setting changes).
    limiter = get_limiter(url, "bics:get-budget") if url else RateLimiter(prefix="bics:get-budget")
    return Budget(limiter, account, rate=settings.BICS_GET_BUDGET_PER_MINUTE, per=60)


def get_client():
    """A client for the configured account, shared within the process."""
    from bics.client import BicsClient

    key = _settings_key()
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = BicsClient(
                settings.BICS_API_BASE_URL,
                settings.BICS_API_TOKEN,
                routes=settings.BICS_ROUTES or None,
                timeout=(settings.BICS_CONNECT_TIMEOUT, settings.BICS_READ_TIMEOUT),
                retries=settings.BICS_RETRIES,
                use_query_token=settings.BICS_USE_QUERY_TOKEN,
                use_method_override=settings.BICS_USE_METHOD_OVERRIDE,
                refresh_token=settings.BICS_REFRESH_TOKEN or None,
                rate_limiter=_rate_limiter(),
            )
            _clients.clear()
            _clients[key] = client
        return client
