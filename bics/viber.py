"""Viber: templates, unsubscribers, sends, DLR pull, pricing (16).

Message statuses (Viber overview, Status Info): queued, sent, delivered, read, expired, failed.
Template status: 1 approved, 2 pending, 3 rejected. Numbers in E.164 with '+' are converted to
digits by the client.
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
from bics.numbers import to_e164

__all__ = [
    "MESSAGE_STATUSES",
    "ChannelDlr",
    "Template",
    "clean_unsubscribers",
    "create_template",
    "create_unsubscriber",
    "delete_template",
    "delete_unsubscriber",
    "get_template",
    "get_unsubscriber",
    "import_unsubscribers",
    "list_pricing",
    "list_templates",
    "list_unsubscribers",
    "pull_dlr",
    "send_message",
    "send_template",
    "update_template",
    "update_unsubscriber",
]

MESSAGE_STATUSES = ("queued", "sent", "delivered", "read", "expired", "failed")
TEMPLATE_STATUS = {"1": "approved", "2": "pending", "3": "rejected"}


@dataclass
class Template:
    id: str | None = None
    name: str | None = None
    alias: str | None = None
    type: str | None = None
    category: str | None = None  # transactional | promotional | session
    payload: Any = None
    message: Any = None
    status: Any = None  # 1 approved, 2 pending, 3 rejected
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def state(self) -> str | None:
        return TEMPLATE_STATUS.get(str(self.status)) if self.status is not None else None


@dataclass
class ChannelDlr:
    """A Viber/WhatsApp DLR item (pull). Item fields are collapsed in the file."""

    id: str | None = None
    mobile: str | None = None
    status: str | None = None
    updated_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.mobile = to_e164(self.mobile)


# ------------------------------------------------------------------ templates
def list_templates(client: BicsClient, *, id: str | None = None, name: str | None = None,  # noqa: A002
                   type: str | None = None, status: str | None = None) -> Iterator[Template]:  # noqa: A002
    params = filters(id=id, name=name, type=type, status=status)
    for item in client.iterate("viber.templates.list", params=params):
        yield build(Template, item)


def create_template(client: BicsClient, *, name: str, message: dict,
                    category: str = "transactional") -> Template:
    body = {"name": name, "category": category, "message": message}
    resp = client.call("viber.templates.create", json=body)
    return build(Template, first_object(resp.data) or body)


def get_template(client: BicsClient, *, id: str) -> Template:  # noqa: A002
    resp = client.call("viber.templates.get", path_params={"id": id})
    return build(Template, first_object(resp.data))


def update_template(client: BicsClient, *, id: str, name: str, message: dict,  # noqa: A002
                    category: str) -> Template:
    """``name`` is required but unchangeable (Viber, Edit Template): pass the current name."""
    resp = client.call("viber.templates.update", path_params={"id": id},
                       json={"name": name, "category": category, "message": message})
    return build(Template, first_object(resp.data))


def delete_template(client: BicsClient, *, id: str) -> None:  # noqa: A002
    client.call("viber.templates.delete", path_params={"id": id})


# ------------------------------------------------------------------ unsubscribers
# The seven operations are the same in sms, voice, viber and whatsapp: bics/_unsubscribers.py
# Viber's View All Unsubscribers documents no filters.
(list_unsubscribers, create_unsubscriber, clean_unsubscribers, get_unsubscriber,
 update_unsubscriber, delete_unsubscriber, import_unsubscribers) = _unsubscribers.family(
    "viber", "Viber suppression list", list_filters=False)


# ------------------------------------------------------------------ sending
def send_message(client: BicsClient, *, to: str, channels: list[dict],
                 message: dict | None = None) -> SendResult:
    """Non-template message (text, image, video, file, buttons...; bodies collapsed)."""
    body = compact(channels=channels, message=message, recipient={"mobile": to})
    return SendResult.from_response(client.call("viber.messages.send", json=body))


def send_template(client: BicsClient, *, to: str, data: dict, meta: dict,
                  alias: str | None = None, id: str | None = None) -> SendResult:  # noqa: A002
    """Template message by alias or id; ``meta`` is required for Viber (Viber, Send Template Message)."""
    if not alias and not id:
        raise ValueError("send_template needs alias or id")
    body = compact(alias=alias, id=id, data=data, meta=meta, recipient={"mobile": to})
    return SendResult.from_response(client.call("viber.messages.send_template", json=body))


def pull_dlr(client: BicsClient, *, id: str | None = None,  # noqa: A002
             mobile: str | None = None) -> Iterator[ChannelDlr]:
    for item in client.iterate("viber.messages.dlr", params=compact(id=id, mobile=mobile)):
        yield build(ChannelDlr, item)


def list_pricing(client: BicsClient, *, iso: str | None = None, service: str | None = None,
                 subservice: str | None = None, status: str | None = None) -> Iterator[Price]:
    params = filters(iso=iso, service=service, subservice=subservice, status=status)
    for item in client.iterate("viber.pricing.list", params=params):
        yield build(Price, item)
