"""The one place where the benchmarks meet the product's code: models, services, URLs.

When apps move (``messaging.campaigns``/``messaging.webhooks``), only this module changes.
Everything is imported lazily: call after ``bench.setup_django()``.
"""

from __future__ import annotations

from types import SimpleNamespace

# Admin changelists (app label ``campaigns``).
CAMPAIGN_CHANGELIST = "/admin/campaigns/campaign/"
MESSAGE_CHANGELIST = "/admin/campaigns/message/"
WEBHOOK_RECEIVER = "/webhooks/bics/{key}/"  # + the webhook's slug
WSGI_APP = "config.wsgi"  # what gunicorn serves for the product


def models() -> SimpleNamespace:
    from contacts.models import Contact, Tag
    from messaging.campaigns.models import Campaign, DeliveryReport, Message, SendBatch
    from messaging.catalogue.models import Channel, Sender, Template, TemplateApproval, Unsubscriber
    from messaging.webhooks.models import Webhook, WebhookEvent

    return SimpleNamespace(Contact=Contact, Tag=Tag, Channel=Channel, Sender=Sender, Template=Template,
                           TemplateApproval=TemplateApproval, Unsubscriber=Unsubscriber, Campaign=Campaign,
                           DeliveryReport=DeliveryReport, Message=Message, SendBatch=SendBatch, Webhook=Webhook,
                           WebhookEvent=WebhookEvent)


def campaign_launch(campaign) -> int:
    """The product's launch as staff trigger it (checks, audience, Message rows), without
    queueing the Celery task: the benchmark drives the sending itself. Returns the audience."""
    from messaging.campaigns.services.campaigns import campaign_launch as launch

    return launch(campaign=campaign, now=True, enqueue=False).audience_size


def campaign_send(campaign_id: int) -> dict:
    """Send a launched campaign to its end in this process (what ``send_campaign --wait`` does).
    When the launch becomes chunked work that a task continues, this must also finish the
    preparation (in this process, so ``max_write_tx_ms`` sees its transactions)."""
    from messaging.campaigns.services.dispatch import campaign_run

    return campaign_run(campaign_id, poll_every=10**9)


def webhook_events_drain() -> int:
    """Apply every stored, unprocessed webhook event with the product's processing (in sets,
    as the drain task does); returns how many were taken."""
    from messaging.webhooks.ingest import apply_pending_events

    return apply_pending_events()


def webhook_events_stored() -> int:
    """Events the receiver stored: in the event table, and in the inboxes not moved yet."""
    from django.db import connection

    from messaging.webhooks import inbox

    WebhookEvent = models().WebhookEvent
    keys = list(inbox.held_keys(connection))
    moved = sum(WebhookEvent.objects.filter(dedupe_key__in=keys[start:start + 5000]).count()
                for start in range(0, len(keys), 5000))
    return WebhookEvent.objects.count() + len(keys) - moved


def sign(body: bytes, key: str) -> str:
    """The ``Signature`` header BICS sends (HMAC-SHA256 hex of the raw body)."""
    from bics.webhooks import sign as bics_sign

    return bics_sign(body, key)


def table(model) -> str:
    return model._meta.db_table
