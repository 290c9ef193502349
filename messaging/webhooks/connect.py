"""Connecting this back-office to BICS: one webhook with a fresh secret and verification token,
subscribed to every event we handle (Create Webhook, Update Webhook, Create Subscription)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.bics import get_client
from core.models import SyncState
from messaging.webhooks.base import forget_webhooks
from messaging.webhooks.models import WEBHOOK_EVENTS, Subscription, Webhook

log = logging.getLogger(__name__)
HANDLED_EVENTS = [name for name, _ in WEBHOOK_EVENTS]


@dataclass
class ConnectResult:
    webhook: Webhook
    secret: str  # shown once to the staff member who connected; never stored elsewhere
    created: bool
    subscribed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def receiver_url(webhook: Webhook, *, base: str | None = None) -> str:
    base = (base or settings.PUBLIC_BASE_URL).rstrip("/")
    return base + reverse("webhooks:receive", kwargs={"key": webhook.slug})


def webhook_connect(*, name: str | None = None, base_url: str | None = None) -> ConnectResult:
    """Create (or repair) the webhook pointing at this back-office with a fresh secret and
    verification token, then subscribe it to every event we handle.

    The local record (slug, secret, token) is committed before BICS is called: BICS's
    verification call can arrive before its create answer does. Update Webhook takes no
    ``token``, so a repair of a webhook BICS still has renews the secret only.
    """
    name = name or getattr(settings, "BICS_WEBHOOK_NAME", "BICS back-office")
    hook = Webhook.objects.filter(name=name).order_by("pk").first()
    created = hook is None
    hook = hook or Webhook(name=name)
    secret = secrets.token_urlsafe(32)
    hook.secret, hook.status = secret, Webhook.Status.ACTIVE
    if not hook.bics_id:
        hook.token = secrets.token_urlsafe(16)
    hook.uri = receiver_url(hook, base=base_url)
    hook._from_sync = True
    hook.save()
    _webhook_at_bics(hook, secret)
    forget_webhooks()  # this process; others refresh within BICS_WEBHOOK_CACHE_SECONDS
    result = ConnectResult(webhook=hook, secret=secret, created=created)
    _subscribe_all(hook, result)
    log.info("webhook %s connected (%s), %d subscriptions made", hook.pk, "created" if created else "repaired",
             len(result.subscribed))
    return result


def _webhook_at_bics(hook: Webhook, secret: str) -> None:
    """Update Webhook when BICS has it; Create Webhook when it has not (or no longer has it)."""
    from bics import webhooks as bics_webhooks
    from bics.errors import BicsNotFound

    client = get_client()
    if hook.bics_id:
        try:
            bics_webhooks.update_webhook(client, id=hook.bics_id, name=hook.name, uri=hook.uri,
                                         status="1", secret=secret)
        except BicsNotFound:
            hook.bics_id = None
            hook.token = secrets.token_urlsafe(16)
            hook.save(update_fields=["bics_id", "token"])
            hook.subscriptions.update(bics_id=None, sync_state=SyncState.NEVER)
    if not hook.bics_id:
        bics_hook = bics_webhooks.create_webhook(client, name=hook.name, uri=hook.uri, secret=secret,
                                                 status="1", token=hook.token)
        hook.bics_id = str(bics_hook.id or "") or None
    Webhook.objects.filter(pk=hook.pk).update(bics_id=hook.bics_id, sync_state=SyncState.SYNCED,
                                              sync_error="", synced_at=timezone.now())


def _subscribe_all(hook: Webhook, result: ConnectResult) -> None:
    """A subscription to every handled event BICS does not have yet for this webhook."""
    from bics import webhooks as bics_webhooks

    client = get_client()
    at_bics = {(s.event, str(s.webhook_id)) for s in bics_webhooks.list_subscriptions(client)}
    for event in HANDLED_EVENTS:
        sub, _ = Subscription.objects.get_or_create(webhook=hook, event=event, identity="all")
        if (event, str(hook.bics_id)) in at_bics and sub.bics_id:
            continue
        try:
            made = bics_webhooks.create_subscription(client, event=event, webhook_id=hook.bics_id, identity="all")
        except Exception as exc:  # one refused event does not stop the others
            Subscription.objects.filter(pk=sub.pk).update(sync_state=SyncState.FAILED, sync_error=str(exc)[:500])
            result.failures.append(f"{event}: {exc}")
            continue
        Subscription.objects.filter(pk=sub.pk).update(bics_id=str(made.id or "") or None, sync_state=SyncState.SYNCED,
                                                      sync_error="", synced_at=timezone.now())
        result.subscribed.append(event)
