"""The one receiving view: security done once, here; parsing and processing elsewhere."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from bics import webhooks as bics_webhooks
from messaging.webhooks import parsing
from messaging.webhooks.models import Webhook

log = logging.getLogger("messaging.webhooks")
OK_BODY = b'{"status":"OK","code":200,"message":"Received"}'


class WebhookAuthError(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


_cache: dict[str, tuple[float, Webhook]] = {}
_cache_lock = threading.Lock()


def find_webhook(key: str, *, fresh: bool = False) -> Webhook | None:
    """By our random slug only (``/webhooks/bics/<slug>/``), never by the BICS id, which BICS
    shows in its answers and uses as the documented Signature key. Kept in this process for
    ``BICS_WEBHOOK_CACHE_SECONDS`` (a query less per delivery under load); a changed secret
    applies after that (the handshake always reads it fresh)."""
    ttl = float(getattr(settings, "BICS_WEBHOOK_CACHE_SECONDS", 5))
    now = time.monotonic()
    if not fresh and ttl > 0:
        hit = _cache.get(key)  # one dict lookup is atomic: no lock (taken under load by every callback)
        if hit and now - hit[0] < ttl:
            return hit[1]
    hook = Webhook.objects.filter(slug=key).first() if key else None
    if hook is not None and ttl > 0:
        with _cache_lock:
            _cache[key] = (now, hook)
    return hook


def forget_webhooks() -> None:
    with _cache_lock:
        _cache.clear()


NO_SECRET = ("webhook has no secret, so its callbacks cannot be authenticated: in the admin, open the "
             "webhook, tick 'Generate a new secret', save, then push it to BICS (or use 'Connect this back-office')")


def signs_with_secret() -> bool:
    """The documentation keys ``Signature`` by the webhook id (Webhooks: Signature), which BICS
    shows in its answers: such a signature proves nothing and is not checked. A deployment whose
    BICS account signs with the secret says so (``BICS_WEBHOOK_SIGNATURE_KEY = "secret"``)."""
    return getattr(settings, "BICS_WEBHOOK_SIGNATURE_KEY", "id") == "secret"


def authenticate(request: HttpRequest, hook: Webhook, body: bytes) -> None:
    """Raises ``WebhookAuthError`` unless the callback proves it knows the webhook's secret:
    the Bearer secret (Webhook Verification: Validating a Webhook) or, when BICS signs with the
    secret, the ``Signature``; every credential present must match (constant-time compares).
    A webhook without a secret refuses every callback. The receiver calls this first."""
    check_credentials(hook, body, request.headers.get("Authorization"), request.headers.get("Signature"))


def check_credentials(hook: Webhook, body: bytes, authorization: str | None, signature: str | None) -> None:
    """``authenticate`` on the raw header values (the lean path of ``receiver_wsgi`` has no request)."""
    if not hook.secret:
        raise WebhookAuthError(403, NO_SECRET)
    checked = False
    if authorization:
        if not bics_webhooks.verify_bearer(authorization, hook.secret):
            raise WebhookAuthError(403, "authorization mismatch")
        checked = True
    if signature and signs_with_secret():
        if not bics_webhooks.verify_signature(body, signature, hook.secret):
            raise WebhookAuthError(403, "bad signature")
        checked = True
    elif not signature and getattr(settings, "BICS_WEBHOOK_REQUIRE_SIGNATURE", False):
        raise WebhookAuthError(401, "missing signature")
    if not checked:
        raise WebhookAuthError(401, "authorization missing")
    if hook.status != Webhook.Status.ACTIVE:
        raise WebhookAuthError(403, "webhook inactive")


@method_decorator(csrf_exempt, name="dispatch")
class BicsWebhookView(View):
    """``/webhooks/bics/<key>/``: handshake, authentication, storage; 200 at once."""

    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, key: str, *args, **kwargs) -> HttpResponse:
        started = time.monotonic()
        if request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request)
        body = request.body
        query_token = request.GET.get("token")
        handshake = request.method == "POST" and parsing.is_handshake(query_token, body)
        hook = find_webhook(key, fresh=handshake)
        if hook is None:
            log.warning("webhook refused: unknown key %r from %s", key[:40], _client_ip(request))
            return JsonResponse({"error": "unknown webhook"}, status=404)
        if handshake:
            return self.handshake(request, hook, query_token, body)
        try:
            authenticate(request, hook, body)
        except WebhookAuthError as exc:
            # Never the body, never the credential: who, which webhook, why, how big.
            log.warning("webhook refused: %s (webhook %s, %s, %d bytes, from %s)", exc.reason, hook.pk,
                        request.method, len(body), _client_ip(request))
            return JsonResponse({"error": "unauthorised"}, status=exc.status)
        try:
            event = self.parse(request, body)
        except parsing.ParseError as exc:
            log.warning("webhook refused: unreadable (%s) (webhook %s, %d bytes)", exc, hook.pk, len(body))
            return JsonResponse({"error": str(exc)}, status=400)
        from messaging.webhooks.services import webhook_event_receive

        webhook_event_receive(webhook=hook, event=event)
        log.debug("webhook %s stored in %.1f ms", event.event_type, (time.monotonic() - started) * 1000)
        return HttpResponse(OK_BODY, content_type="application/json")

    def parse(self, request: HttpRequest, body: bytes) -> parsing.BicsEvent:
        """Subclasses turn the request into ONE normalised event (raise ParseError)."""
        raise NotImplementedError

    def handshake(self, request, hook: Webhook, query_token, body) -> HttpResponse:
        status, answer = bics_webhooks.handshake_response(query_token, body, hook.token)
        if status != 200:
            log.warning("webhook handshake refused: wrong token (webhook %s, from %s)", hook.pk, _client_ip(request))
        else:
            from django.utils import timezone

            Webhook.objects.filter(pk=hook.pk).update(verified_at=timezone.now())
            log.info("webhook handshake answered (webhook %s)", hook.pk)
        return JsonResponse(answer, status=status)
