"""Models of the webhooks app.

``Webhook`` and ``Subscription`` mirror BICS resources (Platform, Webhooks) and sync through
``core.sync`` (adapters in ``sync_adapters.py``). ``WebhookEvent`` is every callback as
received (stored before it is processed). ``InboundMessage`` is what processing makes of an
inbound message. Tables keep the ``messaging_`` names they had before the app was split out.
"""

import secrets

from django.db import models

from core.fields import RowidAutoField
from core.models import SyncedModel, TimeStampedModel

# The documented event table (Platform, Webhooks: events).
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
    """A BICS webhook (name, uri, status, secret, verification token).

    ``slug`` is our receiver's path segment (``/webhooks/bics/<slug>/``): random, never the
    BICS id (public, and the documented Signature key). ``secret`` is write-only in the admin;
    without one, callbacks are refused.
    """

    class Status(models.TextChoices):
        ACTIVE = "1", "Active"
        INACTIVE = "0", "Inactive"

    name = models.CharField(max_length=100)
    uri = models.URLField("URL", max_length=500)
    status = models.CharField(max_length=1, choices=Status.choices, default=Status.ACTIVE)
    secret = models.CharField(max_length=200, blank=True,
                              help_text="Sent by BICS as 'Authorization: Bearer <secret>'. Without a secret "
                                        "every callback is refused: generate one, save, then push to BICS.")
    token = models.CharField("verification token", max_length=200, blank=True,
                             help_text="Validation key of the verification handshake.")
    slug = models.SlugField(max_length=40, unique=True, default=new_slug,
                            help_text="Random path segment of our receiver: /webhooks/bics/<slug>/.")
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "messaging_webhook"
        ordering = ["name", "pk"]
        constraints = [models.CheckConstraint(condition=~models.Q(slug=models.F("bics_id")),
                                              name="webhook_url_key_is_not_bics_id")]

    def __str__(self):
        return self.name

    def __repr__(self):  # never the secret
        return f"<Webhook {self.pk} {self.name!r} {self.uri!r}>"


class Subscription(SyncedModel, TimeStampedModel):
    """An event routed to a webhook (Platform, Webhooks: Subscribe). ``identity``: only ``all`` is shown."""

    event = models.CharField(max_length=40, choices=WEBHOOK_EVENTS)
    identity = models.CharField(max_length=100, default="all")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="subscriptions")

    class Meta:
        db_table = "messaging_subscription"
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

    # Written once per delivery at the receiver's rate: no sqlite_sequence row to rewrite each time.
    id = RowidAutoField(primary_key=True)
    # Every index is written by each delivery's INSERT (the receiver's cost): only those a query
    # needs. None on the webhook or the event type (the admin's filter lists the documented
    # types instead of a DISTINCT; deleting a webhook, rare, scans).
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="events",
                                db_index=False)
    # No index of its own: the admin orders by pk (the order of arrival), the retention finds
    # its boundary by pk (``core.ops.retention``), the drain uses (state, received_at).
    received_at = models.DateTimeField()
    event_type = models.CharField(max_length=40)
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
        db_table = "messaging_webhookevent"
        ordering = ["-pk"]
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
    bics_id = models.CharField("BICS id", max_length=100, blank=True)
    received_at = models.DateTimeField(db_index=True)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="inbound_messages")

    class Meta:
        db_table = "messaging_inboundmessage"
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.channel} from {self.from_number}"
