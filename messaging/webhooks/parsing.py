"""Turn a request from BICS into ONE normalised event type, ``BicsEvent``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from bics import webhooks as bics_webhooks

SMART_LINK_VISIT = "smartlink:visit"  # no documented event name: the flat Smart Link body
DLR_EVENT_BY_CHANNEL = {"sms": "sms:message:status", "whatsapp": "whatsapp:message:status",
                        "viber": "viber:message:status", "voice": "voice:message:out"}
# Customised webhooks (Compose Customized Webhook) name their query keys freely; the Help examples use these.
QUERY_ALIASES = {"message_id": "id", "mobile_number": "mobile", "message_status": "status",
                 "custom_id": "custom"}  # our id; a DLR's cid is BICS's
RESERVED_QUERY = {"token", "event", "channel"}
# What ``json.dumps(…, sort_keys=True, separators=(",", ":"), default=str)`` builds on every
# call, built once: the dedupe key is computed for each delivery.
KEY_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


class ParseError(ValueError):
    """The body is not a BICS event (answered 400, nothing stored)."""


@dataclass(frozen=True)
class BicsEvent:
    event_type: str  # a documented event, or SMART_LINK_VISIT
    payload: dict
    raw: dict = field(default_factory=dict, compare=False)
    method: str = "POST"

    @property
    def channel(self) -> str:
        return self.event_type.split(":", 1)[0]

    @property
    def dedupe_key(self) -> str:
        """Same event type and payload: the same event (BICS retries re-send it as is)."""
        return hashlib.sha256(KEY_ENCODER.encode([self.event_type, self.payload]).encode()).hexdigest()


def from_mapping(data: Mapping) -> BicsEvent:
    """The event of a decoded JSON object (or of query parameters); ParseError otherwise."""
    event_type, payload = data.get("event"), data.get("payload")
    if isinstance(event_type, str) and isinstance(payload, dict) and event_type != "sms:dlr":
        return BicsEvent(event_type[:40], payload, dict(data))  # the documented envelope, as parse_event reads it
    try:
        parsed = bics_webhooks.parse_event(dict(data))
    except ValueError as exc:
        raise ParseError(str(exc)) from exc
    event_type = parsed.event
    if event_type == "sms:dlr":  # the flat Help DLR (Webhook Verification) is an SMS status
        event_type = "sms:message:status"
    payload = parsed.payload
    if not isinstance(payload, dict):
        raise ParseError("payload is not an object")
    return BicsEvent(event_type[:40], payload, dict(data))


def parse_body(body: bytes) -> BicsEvent:
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError("body is not JSON") from exc
    if not isinstance(data, dict):
        raise ParseError("body is not a JSON object")
    return from_mapping(data)


def parse_params(params: Mapping[str, str], *, method: str = "GET") -> BicsEvent:
    """A customised webhook: values in the query (or a form body). ``event=`` or ``channel=``
    in the URL we gave the portal names the event; otherwise the keys decide (DLR by default)."""
    data = {QUERY_ALIASES.get(k, k): v for k, v in params.items() if k not in RESERVED_QUERY}
    if not data:
        raise ParseError("no parameters")
    event_type = params.get("event") or DLR_EVENT_BY_CHANNEL.get(params.get("channel") or "")
    if event_type:
        return BicsEvent(str(event_type)[:40], data, dict(params), method)
    event = from_mapping(data)
    return BicsEvent(event.event_type, event.payload, dict(params), method)


def is_handshake(query_token: str | None, body: bytes) -> bool:
    """The verification call (Validating a Webhook): ``?token=`` and/or a body with ``challenge``."""
    if not body:
        return bool(query_token)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and is_handshake_object(query_token, data)


def is_handshake_object(query_token: str | None, data: dict) -> bool:
    """``is_handshake`` on a body already decoded (the receiver's lean path decodes once)."""
    return "challenge" in data and "event" not in data and (bool(query_token) or "validation_key" in data)
