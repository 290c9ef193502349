"""Single calls: outgoing (4 variants), text-to-speech, Click2Call; status lookup.

A call creation is a send: BICS documents no de-duplication, so a call whose outcome is
unknown (timeout or 5xx after the request left) is marked ``unknown`` and reconciled through
Call Status (by our ``cid``, then by number and date) before anyone may send it again.

Assumptions where the documentation is silent, kept in one place (``call_payload``):
audio file variant sends ``audio`` (a URL, as in bulk calls); audio id variant sends
``audio_id``; the variables variant adds the variables at the top level (as
``bics.voice.create_call`` does); TTS options carry ``voice_id`` and ``iteration``; every
single call carries ``cid`` = our ``custom_id``.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from core.bics import get_client
from core.bics_time import format_bics_date, parse_bics_time
from core.phones import PhoneError, normalise_phone
from voice.models import Call, CallStatus, RequestState
from voice.services._common import as_int

log = logging.getLogger(__name__)

ROUTE_BY_KIND = {
    Call.Kind.FLOW: "voice.calls.create",
    Call.Kind.AUDIO_FILE: "voice.calls.create",
    Call.Kind.AUDIO_ID: "voice.calls.create",
    Call.Kind.FLOW_VARIABLES: "voice.calls.create",
    Call.Kind.TTS: "voice.tts.create",
    Call.Kind.CLICK2CALL: "voice.click2call.create",
}
CALL_FIELDS = ("bridge", "to", "flow_id", "audio", "audio_id", "cid", "name", "interval", "webhook_id")


class CallNotSendable(ValueError):
    pass


def _common(call: Call) -> dict:
    body = {"bridge": call.bridge, "to": call.to, "cid": str(call.custom_id)}
    if call.name:
        body["name"] = call.name
    if call.interval:
        body["interval"] = call.interval
    if call.webhook_id:
        body["webhook_id"] = call.webhook_id
    return body


def call_payload(call: Call) -> dict:
    """The request body for ``call`` (numbers in E.164; the client writes digits)."""
    kind = call.kind
    if kind == Call.Kind.TTS:
        options = dict(call.tts_options or {})
        if call.voice_id:
            options["voice_id"] = call.voice_id
        body = {"bridge": call.bridge, "to": call.to, "text": call.tts_text, "cid": str(call.custom_id)}
        if options:
            body["options"] = options
        return body
    if kind == Call.Kind.CLICK2CALL:
        body = {"bridge": call.bridge, "from": call.from_number, "to": call.to,
                "record": "1" if call.record else "0", "attempts": call.attempts,
                "mid": call.mid or str(call.custom_id)}
        if call.duration_limit:
            body["duration"] = str(call.duration_limit)
        if call.webhook_id:
            body["webhook_id"] = call.webhook_id
        return body
    body = _common(call)
    if kind in (Call.Kind.FLOW, Call.Kind.FLOW_VARIABLES):
        body["flow_id"] = call.flow_id
        if kind == Call.Kind.FLOW_VARIABLES:
            for key, value in (call.variables or {}).items():
                if key not in body:
                    body[key] = value
    elif kind == Call.Kind.AUDIO_FILE:
        body["audio"] = call.audio_url or (call.sound_file.url if call.sound_file else "")
    elif kind == Call.Kind.AUDIO_ID:
        body["audio_id"] = call.sound_file.bics_id if call.sound_file else ""
    return body


def call_check(call: Call) -> None:
    """Refuse what BICS would refuse, before sending (raises ``CallNotSendable``)."""
    problems = []
    if not call.bridge:
        problems.append("a bridge number is required")
    if not call.to:
        problems.append("a recipient is required")
    kind = call.kind
    if kind in (Call.Kind.FLOW, Call.Kind.FLOW_VARIABLES) and not call.flow_id:
        problems.append("an IVR flow id is required")
    if kind == Call.Kind.FLOW_VARIABLES and not call.variables:
        problems.append("variables are required for this variant")
    if kind == Call.Kind.AUDIO_FILE and not (call.audio_url or call.sound_file_id):
        problems.append("an audio file URL is required")
    if kind == Call.Kind.AUDIO_ID and not (call.sound_file and call.sound_file.bics_id):
        problems.append("a sound file created at BICS is required")
    if kind == Call.Kind.TTS and not call.tts_text.strip():
        problems.append("the text is required")
    if kind == Call.Kind.CLICK2CALL:
        if not call.from_number:
            problems.append("the 'from' number is required")
        if call.attempts > 2:  # documented maximum
            problems.append("at most 2 attempts")
    if kind != Call.Kind.CLICK2CALL and call.interval not in (0, 5, 15, 30, 45, 60):
        problems.append("the retry interval must be 0, 5, 15, 30, 45 or 60 minutes")
    if problems:
        raise CallNotSendable("; ".join(problems).capitalize() + ".")


def call_create(**fields) -> Call:
    """Store a call (not sent). Numbers are normalised to E.164."""
    to = str(fields.get("to") or "")
    # Click2Call's 'to' may be a flow id: only a number written as one is normalised.
    names = ("bridge", "from_number", "to") if fields.get("kind") != Call.Kind.CLICK2CALL \
        or to.startswith(("+", "00")) else ("bridge", "from_number")
    for name in names:
        if fields.get(name):
            try:
                fields[name] = normalise_phone(str(fields[name]))[0]
            except PhoneError as exc:
                raise CallNotSendable(f"{name.replace('_', ' ').capitalize()}: {exc}.") from None
    call = Call(**fields)
    call_check(call)
    call.save()
    return call


def call_send(call: Call) -> Call:
    """Send a stored call once. Only a ``draft`` call is sent; the row is claimed first.

    Raises ``CallNotSendable`` when the call is incomplete; BICS refusals end in ``failed``,
    a lost answer in ``unknown`` (see ``call_reconcile``).
    """
    from bics.errors import BicsError, BicsOutcomeUnknown

    call_check(call)
    with transaction.atomic():
        claimed = Call.objects.filter(pk=call.pk, state=RequestState.DRAFT, sent_at__isnull=True).update(
            sent_at=timezone.now(), state=RequestState.UNKNOWN)
    if not claimed:
        call.refresh_from_db()
        return call  # already sent (or being sent) by someone else: never twice
    body = call_payload(call)
    call.raw_request = body
    try:
        message, raw, call_id = _send(call, body)
    except BicsOutcomeUnknown as exc:
        call.state, call.error = RequestState.UNKNOWN, str(exc)
    except BicsError as exc:
        call.state, call.error = RequestState.FAILED, str(exc)
    else:
        call.state, call.error = RequestState.QUEUED, ""
        call.api_message = (message or "")[:255]
        call.raw_response = raw
        call.call_id = call_id or call.call_id
    call.save()
    return call


def _send(call: Call, body: dict) -> tuple[str, dict, str]:
    """Send ``body`` (from ``call_payload``) through the validated shared client: ``bics.voice``
    for outgoing calls and Click2Call, the TTS route directly (``create_tts_call`` takes no
    ``cid``). Returns (message, raw answer, BICS call id)."""
    from bics import voice as bics_voice

    api = get_client()
    if call.kind == Call.Kind.CLICK2CALL:
        result = bics_voice.click2call(
            api, bridge=body["bridge"], from_=body["from"], to=body["to"], record=call.record,
            attempts=body.get("attempts"), mid=body.get("mid"), webhook_id=body.get("webhook_id"),
            duration=body.get("duration"))
        return result.message, result.raw, result.call_id or ""
    if call.kind == Call.Kind.TTS:
        resp = api.call(ROUTE_BY_KIND[call.kind], json=body)
        return resp.message, resp.raw, _call_id(resp)
    fields = {key: body[key] for key in CALL_FIELDS if key in body}
    variables = {key: value for key, value in body.items() if key not in fields}
    result = bics_voice.create_call(api, **fields, variables=variables or None)
    return result.message, result.raw, _result_call_id(result)


def _result_call_id(result) -> str:
    raw = result.raw or {}
    for key in ("callId", "call_id", "id"):
        if raw.get(key):
            return str(raw[key])
    for item in result.items or []:
        if isinstance(item, dict):
            for key in ("id", "callId", "call_id", "outcall_id"):
                if item.get(key):
                    return str(item[key])
    return ""


def _call_id(resp) -> str:
    raw = resp.raw or {}
    for key in ("callId", "call_id", "id"):
        if raw.get(key):
            return str(raw[key])
    data = resp.data
    item = data[0] if isinstance(data, list) and data else data
    if isinstance(item, dict):
        for key in ("id", "callId", "call_id", "outcall_id"):
            if item.get(key):
                return str(item[key])
    return ""


# ----------------------------------------------------------------------------- status
def call_status_lookup(*, id: str | None = None, cid: str | None = None,
                       date=None, mobile: str | None = None) -> list[dict]:
    """Call Status by call id, custom id, date and/or number; raw items."""
    params = {}
    if id:
        params["id"] = id
    if cid:
        params["cid"] = cid
    if date:
        params["date"] = date if isinstance(date, str) else format_bics_date(date)
    if mobile:
        params["mobile"] = mobile  # E.164 (the form validates it; stored numbers are); the client writes the notation
    if not params:
        raise ValueError("Give a call id, a custom id, a date or a number.")
    resp = get_client().call("voice.calls.status", params=params)
    data = resp.data
    if isinstance(data, dict):
        data = [data] if data else []
    return [item for item in (data or []) if isinstance(item, dict)]


def apply_call_data(target, data: dict) -> list[str]:
    """Copy status, duration and times from a status/log/webhook item onto a Call or recipient."""
    changed = []
    status = str(data.get("status") or "").upper()
    if status in CallStatus.values and target.status != status:
        target.status = status
        changed.append("status")
    duration = as_int(data.get("duration"))
    if duration is not None and target.duration != duration:
        target.duration = duration
        changed.append("duration")
    call_id = data.get("id") or data.get("callId") or data.get("call_id")
    if call_id and not target.call_id:
        target.call_id = str(call_id)
        changed.append("call_id")
    if isinstance(target, Call):
        for src, dst in (("start_at", "started_at"), ("end_at", "ended_at")):
            value = parse_bics_time(data.get(src))
            if value and getattr(target, dst) != value:
                setattr(target, dst, value)
                changed.append(dst)
        billing = as_int(data.get("billing"))
        if billing is not None:
            target.billing = billing
            changed.append("billing")
        if data.get("hangup_by"):
            target.hangup_by = str(data["hangup_by"])[:50]
            changed.append("hangup_by")
    return changed


def call_refresh_status(call: Call) -> Call:
    """Ask Call Status about ``call`` (by BICS id, else by our cid) and store the answer."""
    items = call_status_lookup(id=call.call_id) if call.call_id else call_status_lookup(cid=str(call.custom_id))
    if items:
        changed = apply_call_data(call, items[0])
        if call.state == RequestState.UNKNOWN:
            call.state = RequestState.QUEUED
            changed.append("state")
        if changed:
            call.save()
    return call


def call_reconcile(call: Call) -> Call:
    """An ``unknown`` call: found at BICS -> queued; not found -> back to draft (sendable).

    Looks up by our ``cid``, then by number and the day it was sent.
    """
    if call.state != RequestState.UNKNOWN:
        return call
    items = call_status_lookup(cid=str(call.custom_id))
    if not items and call.kind != Call.Kind.CLICK2CALL:
        day = call.sent_at or timezone.now()
        items = [i for i in call_status_lookup(mobile=call.to, date=day)
                 if not i.get("cid") or i.get("cid") == str(call.custom_id)]
    if items:
        apply_call_data(call, items[0])
        call.state, call.error = RequestState.QUEUED, ""
    else:
        call.state, call.sent_at = RequestState.DRAFT, None
        call.error = "Not found at BICS after an unknown outcome: may be sent again."
    call.save()
    return call
