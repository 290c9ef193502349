"""The webhooks app's own processor: inbound messages (``whatsapp|viber|vmn:message:in``).
Payload fields beyond the documented samples are not documented: readers are tolerant."""

from __future__ import annotations

from core.bics_time import parse_bics_time
from core.phones import e164_from_bics
from messaging.webhooks.models import InboundMessage, WebhookEvent
from messaging.webhooks.registry import register

MESSAGE_IN = ("whatsapp:message:in", "viber:message:in", "vmn:message:in")


def _number(value) -> str:
    return e164_from_bics(value)[:32]


def first(data: dict, *names) -> str:
    for name in names:
        value = data.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def message_in(event: WebhookEvent) -> dict:
    data = event.payload
    prefix = event.event_type.split(":")[0]
    channel = {"vmn": "interact"}.get(prefix, prefix)
    sender = _number(first(data, "from", "mobile", "sender", "msisdn", "source"))
    stamp = first(data, "created_at", "received_at", "time", "timestamp")
    when = parse_bics_time(stamp) if stamp else None
    # The contact model through the relation: this app does not import contacts.
    contacts = InboundMessage._meta.get_field("contact").related_model._default_manager
    inbound, _ = InboundMessage.objects.update_or_create(event=event, defaults={
        "channel": channel, "from_number": sender,
        "to_number": _number(first(data, "to", "receiver", "number", "destination")),
        "text": first(data, "text", "message", "body", "content"),
        "bics_id": first(data, "id", "message_id")[:100], "received_at": when or event.received_at,
        "contact": contacts.filter(phone=sender).first() if sender else None,
    })
    return {"inbound_message": inbound.pk, "contact": inbound.contact_id}


def register_all() -> None:
    register(MESSAGE_IN, message_in)
