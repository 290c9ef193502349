"""Models of the webhooks part of messaging (imported by messaging/models.py).

``Webhook`` and ``Subscription`` mirror BICS resources (01-platform-webhooks-token.md §2) and
sync through ``core.sync`` (adapters in ``messaging/sync_webhooks.py``). ``WebhookEvent`` is
every callback as received (stored before it is processed). ``InboundMessage`` and
``SmartLinkVisit`` are what processing makes of inbound messages and smart-link visits.
``SmartLink`` names a smart-link id (created in the BICS portal) for a campaign.
"""

import secrets

from django.db import models

from core.models import SyncedModel, TimeStampedModel

__all__ = ["WEBHOOK_EVENTS", "InboundMessage", "SmartLink", "SmartLinkVisit", "Subscription", "Webhook",
           "WebhookEvent"]

# The documented event table (375-387).
WEBHOOK_EVENTS = [
    ("sms:message:status", "SMS: message status"),
    ("sms:unsubscription", "SMS: unsubscription"),
    ("whatsapp:message:in", "WhatsApp: message in"),
    ("whatsapp:message:status", "WhatsApp: message status"),
    ("whatsapp:unsubscription", "WhatsApp: unsubscription"),
    ("voice:message:out", "Voice: call status (CDR)"),
    ("voice:unsubscription", "Voice: unsubscription"),
    ("viber:message:status", "Viber: message status"),
    ("viber:message:in", "Viber: message in"),
    ("viber:unsubscription", "Viber: unsubscription"),
    ("vmn:message:in", "Interact: message in"),
    ("contacts:subscriber:subscription", "Contacts: subscriber created or updated"),
]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_slug() -> str:
    return secrets.token_urlsafe(12).replace("-", "x").replace("_", "y").lower()


class Webhook(SyncedModel, TimeStampedModel):
    """A BICS webhook (name, uri, status, secret, verification token: 195-222).

    ``slug`` is our receiver's path segment (``/webhooks/bics/<slug>/``); the BICS id is only
    known after creation, so the URL cannot carry it. ``secret`` is write-only in the admin.
    """

    class Status(models.TextChoices):
        ACTIVE = "1", "Active"
        INACTIVE = "0", "Inactive"

    name = models.CharField(max_length=100)
    uri = models.URLField("URL", max_length=500)
    status = models.CharField(max_length=1, choices=Status.choices, default=Status.ACTIVE)
    secret = models.CharField(max_length=200, blank=True,
                              help_text="Sent by BICS as 'Authorization: Bearer <secret>'.")
    token = models.CharField("verification token", max_length=200, blank=True,
                             help_text="Validation key of the verification handshake.")
    slug = models.SlugField(max_length=40, unique=True, default=new_slug,
                            help_text="Path segment of our receiver: /webhooks/bics/<slug>/.")
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def __repr__(self):  # never the secret
        return f"<Webhook {self.pk} {self.name!r} {self.uri!r}>"


class Subscription(SyncedModel, TimeStampedModel):
    """An event routed to a webhook (428-445). ``identity``: only ``all`` is shown."""

    event = models.CharField(max_length=40, choices=WEBHOOK_EVENTS)
    identity = models.CharField(max_length=100, default="all")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="subscriptions")

    class Meta:
        ordering = ["webhook", "event"]
        constraints = [models.UniqueConstraint(fields=["webhook", "event", "identity"],
                                               name="uniq_subscription_webhook_event_identity")]

    def __str__(self):
        return f"{self.event} -> {self.webhook}"


class WebhookEvent(models.Model):
    """One callback as received: stored raw before anything else, then processed by a task."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    received_at = models.DateTimeField(db_index=True)
    event_type = models.CharField(max_length=40, db_index=True)
    method = models.CharField(max_length=6, default="POST")
    payload = models.JSONField(default=dict, blank=True, help_text="The event's payload (normalised).")
    raw = models.JSONField(default=dict, blank=True, help_text="The body or query as received.")
    dedupe_key = models.CharField(max_length=64, unique=True,
                                  help_text="sha256 of the event type and its payload: a retry is stored once.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["state", "received_at"], name="webhookevent_state_received")]

    def __str__(self):
        return f"{self.event_type} #{self.pk} ({self.state})"


class InboundMessage(models.Model):
    """A message a user sent us (whatsapp:message:in, viber:message:in, vmn:message:in)."""

    event = models.OneToOneField(WebhookEvent, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="inbound_message")
    channel = models.CharField(max_length=10)
    from_number = models.CharField("from", max_length=32, db_index=True)
    to_number = models.CharField("to", max_length=32, blank=True)
    text = models.TextField(blank=True)
    bics_id = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(db_index=True)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="inbound_messages")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.channel} from {self.from_number}"


class SmartLink(models.Model):
    """A smart link created in the BICS portal, named here for a campaign: its visits show
    on the campaign through ``link_id``."""

    link_id = models.CharField("smart-link id", max_length=40, unique=True)
    campaign = models.ForeignKey("messaging.Campaign", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="smart_links")
    name = models.CharField(max_length=100, blank=True)
    visits_pulled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["link_id"]

    def __str__(self):
        return self.name or f"smart link {self.link_id}"


class SmartLinkVisit(models.Model):
    """A visit of a smart link (fields of the Smart Link webhook, 822-891)."""

    bics_id = models.CharField("BICS id", max_length=100, unique=True)
    link_id = models.CharField(max_length=40, db_index=True)
    smart_link = models.ForeignKey(SmartLink, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="visits")
    user_agent = models.TextField(blank=True)
    browser = models.CharField(max_length=100, blank=True)
    browser_version = models.CharField(max_length=50, blank=True)
    platform = models.CharField(max_length=50, blank=True)
    device_type = models.CharField(max_length=50, blank=True)
    device_brand = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=100, blank=True)
    country_code = models.CharField(max_length=8, blank=True)
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    mobile = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=8, default="webhook", choices=[("webhook", "Webhook"), ("pull", "Pulled")])

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"visit {self.bics_id} of {self.link_id}"

