"""One processor per event type. Each takes a stored ``WebhookEvent`` and returns a small
dict for its ``result``; it runs inside the transaction that marks the event processed, so
an event is applied once. Payload fields beyond the Help DLR and Smart Link samples are not
documented (§4 20): readers are tolerant and say what they could not find."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from messaging.models_webhooks import InboundMessage, SmartLink, SmartLinkVisit, WebhookEvent
from messaging.webhooks.parsing import SMART_LINK_VISIT

Processor = Callable[[WebhookEvent], dict]


def _e164(value) -> str:
    text = "".join(ch for ch in str(value or "") if ch.isdigit() or ch == "+")
    if text and not text.startswith("+"):
        text = "+" + text
    return text[:32]


def _first(data: dict, *names) -> str:
    for name in names:
        value = data.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def message_status(event: WebhookEvent) -> dict:
    """``*:message:status``: the engine's one status function, through ``dlr_record`` (the
    same path as the DLR poll): never backwards; a second report is stored, not applied."""
    from messaging.models_campaigns import DeliveryReport
    from messaging.services.dlr import dlr_record

    report = dlr_record(channel=event.event_type.split(":")[0], item=event.payload,
                        source=DeliveryReport.Source.WEBHOOK)
    return {"delivery_report": report.pk, "message": report.message_id, "applied": report.applied}


def unsubscription(event: WebhookEvent) -> dict:
    """``sms|whatsapp|viber:unsubscription``: the channel's unsubscribers at once, and the
    number's queued messages of running campaigns leave the next batches."""
    from messaging.services.lists import unsubscriber_upsert_from_bics
    from messaging.services.webhooks import queued_messages_exclude

    channel = event.event_type.split(":")[0]
    payload = dict(event.payload)
    if "receiver" not in payload and payload.get("mobile"):
        payload["receiver"] = payload["mobile"]
    unsubscriber = unsubscriber_upsert_from_bics(channel=channel, payload=payload)
    excluded = queued_messages_exclude(unsubscriber=unsubscriber)
    return {"unsubscriber": unsubscriber.pk, "excluded_messages": excluded}


def voice(event: WebhookEvent) -> dict:
    from voice.services import process_voice_event

    return process_voice_event(event.event_type, event.payload) or {}


def message_in(event: WebhookEvent) -> dict:
    from contacts.models import Contact

    data = event.payload
    prefix = event.event_type.split(":")[0]
    channel = {"vmn": "interact"}.get(prefix, prefix)
    sender = _e164(_first(data, "from", "mobile", "sender", "msisdn", "source"))
    when = None
    stamp = _first(data, "created_at", "received_at", "time", "timestamp")
    if stamp:
        from messaging.sync_adapters import parse_bics_time

        when = parse_bics_time(stamp)
    inbound, _ = InboundMessage.objects.update_or_create(event=event, defaults={
        "channel": channel, "from_number": sender,
        "to_number": _e164(_first(data, "to", "receiver", "number", "destination")),
        "text": _first(data, "text", "message", "body", "content"),
        "bics_id": _first(data, "id", "message_id")[:100], "received_at": when or event.received_at,
        "contact": Contact.objects.filter(phone=sender).first() if sender else None,
    })
    return {"inbound_message": inbound.pk, "contact": inbound.contact_id}


def contact(event: WebhookEvent) -> dict:
    """``contacts:subscriber:subscription``: upsert; never marks the contact dirty."""
    from contacts.services.contacts import contact_upsert_from_bics

    found = contact_upsert_from_bics(event.payload)
    return {"contact": found.pk if found else None}


VISIT_FIELDS = ("user_agent", "browser", "browser_version", "platform", "device_type", "device_brand",
                "country", "country_code", "region", "city", "mobile")


def smart_link_visit_store(data: dict, *, source: str = "webhook") -> tuple[SmartLinkVisit, bool]:
    from messaging.sync_adapters import parse_bics_time

    link_id = str(data.get("link_id") or "")
    lengths = {f.name: f.max_length for f in SmartLinkVisit._meta.fields if getattr(f, "max_length", None)}
    values = {name: str(data.get(name) or "")[: lengths.get(name) or None] for name in VISIT_FIELDS}
    values.update(link_id=link_id[:40], created_at=parse_bics_time(data.get("created_at")), source=source,
                  smart_link=SmartLink.objects.filter(link_id=link_id).first())
    bics_id = str(data.get("id") or "") or f"{link_id}:{data.get('created_at')}:{data.get('mobile')}"
    return SmartLinkVisit.objects.update_or_create(bics_id=bics_id[:100], defaults=values)


def smart_link_visit(event: WebhookEvent) -> dict:
    visit, created = smart_link_visit_store(event.payload)
    return {"visit": visit.pk, "created": created, "link_id": visit.link_id}


PROCESSORS: dict[str, Processor] = {
    "sms:message:status": message_status,
    "whatsapp:message:status": message_status,
    "viber:message:status": message_status,
    "sms:unsubscription": unsubscription,
    "whatsapp:unsubscription": unsubscription,
    "viber:unsubscription": unsubscription,
    "voice:unsubscription": voice,
    "voice:message:out": voice,
    "whatsapp:message:in": message_in,
    "viber:message:in": message_in,
    "vmn:message:in": message_in,
    "contacts:subscriber:subscription": contact,
    SMART_LINK_VISIT: smart_link_visit,
}


def processor_for(event_type: str) -> Processor | None:
    return PROCESSORS.get(event_type)


def now():
    return timezone.now()
