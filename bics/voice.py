"""Voice (Engage): calls, bulk calls, TTS, Click2Call, reports, status, sounds, opt-outs,
pricing (16). Numbers in E.164 with '+' are converted to digits by the client.

Call statuses (Voice overview, Call Status): ANSWER BUSY NOANSWER CANCEL CONGESTION CHANUNAVAIL
RECEIVED MISSED COMPLETED. Call creations are sends: never retried once they may have left.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bics import _unsubscribers
from bics.client import (
    BicsClient,
    Price,
    SendResult,
    build,
    compact,
    filters,
    first_object,
    upload,
)
from bics.numbers import to_e164

__all__ = [
    "CALL_SOURCES",
    "CALL_STATUSES",
    "INTERVALS",
    "VOICE_IDS",
    "CallLog",
    "CallResult",
    "CallStatus",
    "Click2CallResult",
    "Recording",
    "SoundFile",
    "call_status",
    "clean_unsubscribers",
    "click2call",
    "create_bulk_calls",
    "create_call",
    "create_sound_file",
    "create_tts_call",
    "create_unsubscriber",
    "delete_unsubscriber",
    "get_unsubscriber",
    "import_unsubscribers",
    "list_call_logs",
    "list_pricing",
    "list_recordings",
    "list_unsubscribers",
    "update_unsubscriber",
]

CALL_STATUSES = ("ANSWER", "BUSY", "NOANSWER", "CANCEL", "CONGESTION", "CHANUNAVAIL",
                 "RECEIVED", "MISSED", "COMPLETED")
INTERVALS = (0, 5, 15, 30, 45, 60)  # retry interval minutes; 0 = default (Create Outgoing Call, interval)
VOICE_IDS = ("Aditi", "Raveena", "Zeina", "Hala", "Arlet", "Hiujin", "Zhiyu", "Naja", "Laura",
             "Nicole", "Amy", "Aria", "Ayanda", "Kendra", "Geraint", "Suvi", "Léa", "Chantal",
             "Marlene", "Hans", "Dóra", "Carla", "Mizuki", "Seoyeon", "Liv", "Ewa", "Camila",
             "Inês", "Carmen", "Tatyana", "Conchita", "Mia", "Lupe", "Astrid", "Filiz",
             "Gwyneth")  # AWS Polly (VoiceId Options)


@dataclass
class CallResult(SendResult):
    """Answer to a call creation; ``group_id``/``total`` for bulk calls."""

    total: int | None = None


@dataclass
class Click2CallResult:
    call_id: str | None = None
    message: str = ""
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class CallLog:
    id: str | None = None
    caller_id: str | None = None
    to: str | None = None
    bridge: str | None = None
    status: str | None = None
    start_at: str | None = None
    end_at: str | None = None
    duration: Any = None
    billing: Any = None
    hangup_by: str | None = None
    country: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class Recording:
    id: str | None = None
    call_id: str | None = None
    url: str | None = None
    duration: Any = None
    created_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class CallStatus:
    id: str | None = None
    cid: str | None = None
    mobile: str | None = None
    status: str | None = None
    start_at: str | None = None
    end_at: str | None = None
    duration: Any = None
    raw: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.mobile = to_e164(self.mobile)


@dataclass
class SoundFile:
    id: str | None = None  # usable as an audio source for outgoing calls (Create Sound File)
    name: str | None = None
    created_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


# ------------------------------------------------------------------ unsubscribers
# The seven operations are the same in sms, voice, viber and whatsapp: bics/_unsubscribers.py
(list_unsubscribers, create_unsubscriber, clean_unsubscribers, get_unsubscriber,
 update_unsubscriber, delete_unsubscriber, import_unsubscribers) = _unsubscribers.family(
    "voice", "Engage suppression list")


# ------------------------------------------------------------------ calls
def _call_result(resp) -> CallResult:
    base = SendResult.from_response(resp)
    total = resp.raw.get("total")
    return CallResult(base.message, base.group_id, base.items, base.ids, base.raw,
                      int(total) if isinstance(total, int | str) and str(total).isdigit()
                      else None)


CALL_SOURCES = ("flow_id", "audio", "audio_id")  # exactly one per outgoing call


def _add_variables(body: dict[str, Any], variables: dict | None, operation: str) -> None:
    """Flow variables go at the top level of the body ("variable values will replace the API
    parameters", Create Outgoing Call); a variable named like a body field would overwrite it: refused."""
    if not variables:
        return
    clash = sorted(set(variables) & set(body))
    if clash:
        raise ValueError(f"{operation}: variable name(s) {', '.join(clash)} clash with body "
                         "fields")
    body.update(variables)


def create_call(client: BicsClient, *, bridge: str, to: str,  # noqa: PLR0913
                flow_id: str | int | None = None, audio: str | None = None,
                audio_id: str | int | None = None, variables: dict | None = None,
                cid: str | None = None, name: str | None = None, interval: int | None = None,
                webhook_id: str | None = None) -> CallResult:
    """Outgoing call, one of the four documented variants (Create Outgoing Call):

    * IVR flow: ``flow_id``;
    * IVR flow + variables: ``flow_id`` and ``variables`` (fill {Name}-style play widgets;
      sent at the top level of the body);
    * audio file: ``audio``, a public http(s) URL (field name assumed, as in bulk calls);
    * audio id: ``audio_id``, the id of ``create_sound_file`` (field name assumed).

    Exactly one of ``flow_id`` / ``audio`` / ``audio_id``. ``cid`` is our custom id, assumed
    echoed as the Call Status ``cid`` (reconcile with ``call_status(cid=...)``).
    """
    given = [k for k, v in (("flow_id", flow_id), ("audio", audio), ("audio_id", audio_id))
             if v not in (None, "")]
    if len(given) != 1:
        raise ValueError("create_call needs exactly one of flow_id, audio, audio_id"
                         + (f" (got {', '.join(given)})" if given else ""))
    if variables and flow_id in (None, ""):
        raise ValueError("create_call: variables need an IVR flow (flow_id)")
    body = compact(bridge=bridge, flow_id=flow_id, audio=audio, audio_id=audio_id, name=name,
                   to=to, interval=interval, webhook_id=webhook_id, cid=cid)
    _add_variables(body, variables, "create_call")
    return _call_result(client.call("voice.calls.create", json=body))


def create_bulk_calls(client: BicsClient, *, bridge: str, recipients: list[dict],
                      audio: str | None = None, flow_id: int | None = None,
                      name: str | None = None, webhook_id: str | None = None) -> CallResult:
    """Bulk calls. ``recipients``: [{"to": "+32…", "audio"?: url, "variables"?: {…}}]."""
    body = compact(bridge=bridge, audio=audio, flow_id=flow_id, name=name,
                   webhook_id=webhook_id, payload=[dict(r) for r in recipients])
    return _call_result(client.call("voice.bulk_calls.create", json=body))


def create_tts_call(client: BicsClient, *, bridge: str, to: str, text: str,
                    options: dict | None = None, voice_id: str | None = None) -> CallResult:
    """Text-to-speech call; ``voice_id`` goes into ``options`` (key name assumed)."""
    opts = dict(options or {})
    if voice_id:
        opts.setdefault("voice_id", voice_id)
    body = compact(bridge=bridge, to=to, text=text, options=opts or None)
    return _call_result(client.call("voice.tts.create", json=body))


def click2call(client: BicsClient, *, bridge: str, from_: str, to: str | int,  # noqa: PLR0913
               record: bool | None = None, attempts: int | None = None,
               mid: str | None = None, webhook_id: str | None = None,
               duration: str | int | None = None,
               variables: dict | None = None) -> Click2CallResult:
    """Connects ``from_`` (a phone number) first, then ``to``: the IVR flow id (Click2Call),
    not a phone number. ``variables`` (flow ID + variables variant) go at the top level."""
    body = compact(bridge=bridge, to=to, mid=mid, webhook_id=webhook_id, attempts=attempts,
                   record=None if record is None else ("1" if record else "0"),
                   duration=None if duration is None else str(duration))
    body["from"] = from_
    _add_variables(body, variables, "click2call")
    resp = client.call("voice.click2call.create", json=body)
    call_id = resp.raw.get("callId") or resp.raw.get("call_id")
    return Click2CallResult(str(call_id) if call_id else None, resp.message, resp.raw)


def list_call_logs(client: BicsClient, *, end_at: str | None = None) -> Iterator[CallLog]:
    """``end_at``: a range like 'Apr 01, 2021 - Apr 12, 2021' (Call Logs Report)."""
    params = compact(**{"datetime[end_at]": end_at})
    for item in client.iterate("voice.call_logs.list", params=params):
        yield build(CallLog, item)


def list_recordings(client: BicsClient, *, created_at: str | None = None,
                    ) -> Iterator[Recording]:
    params = compact(**{"datetime[r.created_at]": created_at})
    for item in client.iterate("voice.recordings.list", params=params):
        yield build(Recording, item)


def call_status(client: BicsClient, *, id: str | None = None, cid: str | None = None,  # noqa: A002
                date: str | None = None, mobile: str | None = None) -> list[CallStatus]:
    resp = client.call("voice.calls.status",
                       params=compact(id=id, cid=cid, date=date, mobile=mobile))
    data = resp.data if isinstance(resp.data, list) else [resp.data] if resp.data else []
    return [build(CallStatus, item) for item in data]


def create_sound_file(client: BicsClient, *, audio: Any, name: str | None = None,
                      filename: str | None = None) -> SoundFile:
    resp = client.call("voice.sound_files.create", files={"audio": upload(audio, filename)},
                       data=compact(name=name))
    return build(SoundFile, first_object(resp.data))


def list_pricing(client: BicsClient, *, iso: str | None = None, service: str | None = None,
                 subservice: str | None = None, status: str | None = None) -> Iterator[Price]:
    params = filters(iso=iso, service=service, subservice=subservice, status=status)
    for item in client.iterate("voice.pricing.list", params=params):
        yield build(Price, item)
