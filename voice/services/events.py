"""Webhook events for voice, called by the webhook receiver once it has stored
and authenticated an event: ``process_voice_event(event_type, payload)``.

The payloads of ``voice:unsubscription`` and ``voice:message:out`` are collapsed in the
documentation; we read the documented field names of the opt-out body (receiver, type,
value, iso, id) and of the outgoing-call flow variables (id, to, status, start_at, end_at,
duration, billing, hangup_by), plus ``cid``/``group_id``/``callId`` when present. Processing
is idempotent: the same event twice changes nothing more.
"""

from __future__ import annotations

import logging

from core.models import SyncState
from core.phones import e164_from_bics
from voice.models import BulkCallRecipient, Call, RequestState, VoiceUnsubscriber
from voice.services.calls import apply_call_data

log = logging.getLogger(__name__)


def _data(payload: dict) -> dict:
    """The event's fields, whether given bare, as the whole body ``{"event", "payload"}`` or
    wrapped in ``data``."""
    if isinstance(payload, dict) and isinstance(payload.get("payload"), dict):
        payload = payload["payload"]
    inner = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(inner, list):
        inner = inner[0] if inner else {}
    if isinstance(inner, dict) and inner:
        return {**{k: v for k, v in payload.items() if k != "data"}, **inner}
    return payload if isinstance(payload, dict) else {}


def _unsubscription(data: dict) -> dict:
    number = e164_from_bics(data.get("receiver") or data.get("mobile") or data.get("from") or data.get("to"))
    if len(number) < 8:
        return {"handled": False, "reason": "no number in the event"}
    kind = str(data.get("type") or "all")
    kind = kind if kind in VoiceUnsubscriber.Type.values else VoiceUnsubscriber.Type.ALL
    bics_id = str(data["id"]) if data.get("id") not in (None, "") else None
    obj = VoiceUnsubscriber.objects.filter(bics_id=bics_id).first() if bics_id else None
    obj = obj or VoiceUnsubscriber.objects.filter(number=number, type=kind,
                                                  value=str(data.get("value") or "")).first()
    created = obj is None
    if created:
        obj = VoiceUnsubscriber(number=number, type=kind, value=str(data.get("value") or "")[:100])
    obj.iso = str(data.get("iso") or obj.iso or "").upper()[:2]
    if bics_id and not obj.bics_id:
        obj.bics_id = bics_id
    if obj.sync_state != SyncState.DIRTY:
        obj.sync_state = SyncState.SYNCED  # it came from BICS: not to be pushed back
    obj._from_sync = True
    obj.save()
    return {"handled": True, "created": created, "unsubscriber": obj.pk}


def _message_out(data: dict) -> dict:
    call_id = str(data.get("id") or data.get("callId") or data.get("call_id") or data.get("outcall_id") or "")
    cid = str(data.get("cid") or data.get("custom") or data.get("mid") or "")
    call = None
    if call_id:
        call = Call.objects.filter(call_id=call_id).first()
    if call is None and cid:
        call = Call.objects.filter(custom_id=cid).first() if _is_uuid(cid) else None
    if call is not None:
        apply_call_data(call, data)
        if call.state in (RequestState.UNKNOWN, RequestState.DRAFT):
            call.state = RequestState.QUEUED
        call.last_event = data
        call.save()
        return {"handled": True, "call": call.pk}
    recipients = BulkCallRecipient.objects.none()
    if call_id:
        recipients = BulkCallRecipient.objects.filter(call_id=call_id)
    to = e164_from_bics(data.get("to") or data.get("mobile"))
    if not recipients.exists() and to:
        qs = BulkCallRecipient.objects.filter(to=to)
        if data.get("group_id"):
            qs = qs.filter(batch__group_id=str(data["group_id"]))
        recipients = qs.order_by("-pk")[:1]
    recipient = recipients.first() if hasattr(recipients, "first") else None
    if recipient is None:
        return {"handled": False, "reason": "no call or bulk recipient matches"}
    apply_call_data(recipient, data)
    if recipient.state in (RequestState.UNKNOWN, RequestState.DRAFT):
        recipient.state = RequestState.QUEUED
    recipient.save()
    return {"handled": True, "recipient": recipient.pk}


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def process_voice_event(event_type: str, payload: dict) -> dict:
    """Apply one stored webhook event. Returns what happened (for the event's log)."""
    data = _data(payload or {})
    if event_type == "voice:unsubscription":
        return _unsubscription(data)
    if event_type == "voice:message:out":
        return _message_out(data)
    return {"handled": False, "reason": f"not a voice event: {event_type}"}
