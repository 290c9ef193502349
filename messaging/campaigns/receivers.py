"""What campaigns hear from other apps: the catalogue's ``template_content_changed`` signal,
and the webhook events it processes (registered with the webhooks registry)."""

from __future__ import annotations

UNSUBSCRIPTIONS = ("sms:unsubscription", "whatsapp:unsubscription", "viber:unsubscription")
STATUSES = ("sms:message:status", "whatsapp:message:status", "viber:message:status")


def pause_on_template_change(sender, template=None, user=None, **kwargs):
    """A template's content changed: campaigns using it pause."""
    from messaging.campaigns.services.campaigns import campaigns_pause_for_template

    if template is not None:
        campaigns_pause_for_template(template=template, user=user)


def message_status(event) -> dict:
    """``*:message:status``: the engine's one status function, through ``dlr_record`` (the
    same path as the DLR poll): never backwards; a second report is stored, not applied."""
    from messaging.campaigns.models import DeliveryReport
    from messaging.campaigns.services.dlr import dlr_record

    report = dlr_record(channel=event.event_type.split(":")[0], item=event.payload,
                        source=DeliveryReport.Source.WEBHOOK)
    return {"delivery_report": report.pk, "message": report.message_id, "applied": report.applied}


def message_statuses(events) -> list[str]:
    """``*:message:status`` in sets (the webhook drain): one ``dlr_apply_set`` per channel.
    Each result as JSON text (``{"message": id, "applied": bool}``, what ``message_status``
    returns): thousands of ``json.dumps`` calls cost a tenth of the drain."""
    from messaging.campaigns.models import DeliveryReport
    from messaging.campaigns.services.dlr_sets import dlr_apply_set

    results: dict[int, str] = {}
    by_channel: dict[str, list] = {}
    for event in events:
        by_channel.setdefault(event.event_type.partition(":")[0], []).append(event)
    for channel, group in by_channel.items():
        applied = dlr_apply_set(channel=channel, items=[e.payload for e in group],
                                source=DeliveryReport.Source.WEBHOOK, texts=[getattr(e, "text", None) for e in group])
        for event, (message_id, moved) in zip(group, applied, strict=True):
            results[event.pk] = (f'{{"message": {"null" if message_id is None else int(message_id)}, '
                                 f'"applied": {"true" if moved else "false"}}}')
    return [results[event.pk] for event in events]


def unsubscription(event) -> dict:
    """``sms|whatsapp|viber:unsubscription``: the channel's unsubscribers at once, and the
    number's queued messages of running campaigns leave the next batches."""
    from messaging.campaigns.services.optouts import queued_messages_exclude
    from messaging.catalogue.services.lists import unsubscriber_upsert_from_bics

    channel = event.event_type.split(":")[0]
    payload = dict(event.payload)
    if "receiver" not in payload and payload.get("mobile"):
        payload["receiver"] = payload["mobile"]
    unsubscriber = unsubscriber_upsert_from_bics(channel=channel, payload=payload)
    excluded = queued_messages_exclude(unsubscriber=unsubscriber)
    return {"unsubscriber": unsubscriber.pk, "excluded_messages": excluded}


def smart_link_visit(event) -> dict:
    from messaging.campaigns.services.smart_links import smart_link_visit_store

    visit, created = smart_link_visit_store(event.payload)
    return {"visit": visit.pk, "created": created, "link_id": visit.link_id}


def connect() -> None:
    from messaging.catalogue.signals import template_content_changed
    from messaging.webhooks.parsing import SMART_LINK_VISIT
    from messaging.webhooks.registry import register, register_set

    template_content_changed.connect(pause_on_template_change, dispatch_uid="campaigns_pause_on_template_change")
    register(STATUSES, message_status)
    register_set(STATUSES, message_statuses)
    register(UNSUBSCRIPTIONS, unsubscription)
    register(SMART_LINK_VISIT, smart_link_visit)
