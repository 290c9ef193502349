"""WhatsApp: templates, unsubscribers, sends, DLR pull, pricing (14).

Message statuses (WhatsApp overview, Status Info): queued, dispatched, sent, delivered, read, deleted, failed.
Template status: 1 approved, 2 pending, 3 rejected. Service templates (is_conversation=True)
need no Meta approval and go through ``send_template``; non-service templates and free-form
messages go through ``send_message``. Media limits (Message Sending Options) are in ``MEDIA_LIMITS``.
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
)
from bics.viber import ChannelDlr

__all__ = [
    "MEDIA_LIMITS",
    "MESSAGE_STATUSES",
    "ChannelDlr",
    "Template",
    "clean_unsubscribers",
    "create_template",
    "create_unsubscriber",
    "delete_template",
    "delete_unsubscriber",
    "get_unsubscriber",
    "import_unsubscribers",
    "list_pricing",
    "list_templates",
    "list_unsubscribers",
    "pull_dlr",
    "send_message",
    "send_template",
    "update_unsubscriber",
]

MESSAGE_STATUSES = ("queued", "dispatched", "sent", "delivered", "read", "deleted", "failed")
TEMPLATE_STATUS = {"1": "approved", "2": "pending", "3": "rejected"}
MB = 1024 * 1024
MEDIA_LIMITS = {  # kind: (max bytes, accepted types): Message Sending Options
    "document": (100 * MB, ()),
    "image": (5 * MB, ("image/jpeg", "image/png")),
    "audio": (16 * MB, ("audio/aac", "audio/mp4", "audio/amr", "audio/mpeg",
                        "audio/ogg; codecs=opus")),
    "video": (16 * MB, ("video/mp4", "video/3gpp")),
}


@dataclass
class Template:
    id: str | None = None
    name: str | None = None
    alias: str | None = None
    category: str | None = None  # marketing | utility | authentication
    language: str | None = None  # en | en_US
    number: str | None = None
    type: str | None = None  # text | JSON | media | template
    is_conversation: Any = None  # True = service (no Meta approval)
    payload: Any = None
    status: Any = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def state(self) -> str | None:
        return TEMPLATE_STATUS.get(str(self.status)) if self.status is not None else None


# ------------------------------------------------------------------ templates
def list_templates(client: BicsClient, *, id: str | None = None, name: str | None = None,  # noqa: A002
                   type: str | None = None, status: str | None = None) -> Iterator[Template]:  # noqa: A002
    params = filters(id=id, name=name, type=type, status=status)
    for item in client.iterate("whatsapp.templates.list", params=params):
        yield build(Template, item)


def create_template(client: BicsClient, *, name: str, category: str, language: str,  # noqa: PLR0913
                    number: str, type: str, is_conversation: bool,  # noqa: A002
                    payload: dict | None = None) -> Template:
    """``number`` is the business number (E.164 with '+'; sent as digits)."""
    body = compact(name=name, category=category, language=language, number=number, type=type,
                   is_conversation=bool(is_conversation), payload=payload)
    resp = client.call("whatsapp.templates.create", json=body)
    return build(Template, first_object(resp.data) or body)


def delete_template(client: BicsClient, *, id: str) -> None:  # noqa: A002
    client.call("whatsapp.templates.delete", path_params={"id": id})


# ------------------------------------------------------------------ unsubscribers
# The seven operations are the same in sms, voice, viber and whatsapp: bics/_unsubscribers.py
(list_unsubscribers, create_unsubscriber, clean_unsubscribers, get_unsubscriber,
 update_unsubscriber, delete_unsubscriber, import_unsubscribers) = _unsubscribers.family(
    "whatsapp", "WhatsApp suppression list")


# ------------------------------------------------------------------ sending
def send_template(client: BicsClient, *, to: str, data: dict, alias: str | None = None,
                  id: str | None = None, meta: dict | None = None) -> SendResult:  # noqa: A002
    """Service template (no Meta approval) by alias or id."""
    if not alias and not id:
        raise ValueError("send_template needs alias or id")
    body = compact(alias=alias, id=id, data=data, meta=meta, recipient={"mobile": to})
    return SendResult.from_response(client.call("whatsapp.messages.send_template", json=body))


def send_message(client: BicsClient, *, to: str, channels: list[dict],
                 message: dict | None = None) -> SendResult:
    """Free-form and non-service template messages ("Message Sending Options").

    For a non-service template with variables, put ``body_params`` / ``header_params`` in
    ``message`` (the note of Message Sending Options).
    """
    body = compact(channels=channels, message=message, recipient={"mobile": to})
    return SendResult.from_response(client.call("whatsapp.messages.send", json=body))


def pull_dlr(client: BicsClient, *, id: str | None = None,  # noqa: A002
             mobile: str | None = None) -> Iterator[ChannelDlr]:
    for item in client.iterate("whatsapp.messages.dlr", params=compact(id=id, mobile=mobile)):
        yield build(ChannelDlr, item)


def list_pricing(client: BicsClient, *, iso: str | None = None, service: str | None = None,
                 subservice: str | None = None, status: str | None = None) -> Iterator[Price]:
    params = filters(iso=iso, service=service, subservice=subservice, status=status)
    for item in client.iterate("whatsapp.pricing.list", params=params):
        yield build(Price, item)
