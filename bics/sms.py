"""SMS: senders, templates, unsubscribers, blocked templates, sends, DLR pull, pricing (29).

Numbers are passed in our stored form (E.164 with '+'); the client converts them to the
SMS notation (digits, no '+') for the fields declared in bics/shapes.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bics import _unsubscribers
from bics.client import (
    Accepted,
    BicsClient,
    Dlr,
    Price,
    SendResult,
    Unsubscriber,
    build,
    compact,
    filters,
    first_object,
    fmt_time,
    upload,
)
from bics.errors import BicsOutcomeUnknown

__all__ = [
    "BlockedTemplate",
    "Dlr",
    "Price",
    "SendResult",
    "Sender",
    "Template",
    "Unsubscriber",
    "clean_blocked_templates",
    "clean_unsubscribers",
    "create_blocked_template",
    "create_sender",
    "create_template",
    "create_unsubscriber",
    "delete_blocked_template",
    "delete_sender",
    "delete_template",
    "delete_unsubscriber",
    "get_blocked_template",
    "get_sender",
    "get_template",
    "get_unsubscriber",
    "import_blocked_templates",
    "import_unsubscribers",
    "list_blocked_templates",
    "list_pricing",
    "list_senders",
    "list_templates",
    "list_unsubscribers",
    "pull_dlr",
    "send_message",
    "send_template",
    "send_text",
    "update_blocked_template",
    "update_sender",
    "update_template",
    "update_unsubscriber",
]

SENDER_STATUS = {"0": "pending", "1": "approved", "2": "rejected"}  # View All Senders, Status Description


@dataclass
class Sender:
    id: str | None = None
    name: str | None = None  # the sender ID text
    country_code: str | None = None
    service: str | None = None
    status: Any = None  # 0 pending, 1 approved, 2 rejected
    entity_name: str | None = None
    entity_id: str | None = None
    purpose: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def state(self) -> str | None:
        return SENDER_STATUS.get(str(self.status)) if self.status is not None else None


@dataclass
class Template:
    id: str | None = None
    name: str | None = None
    body: str | None = None
    sender: str | None = None
    type: str | None = None  # T, P, SI, SE
    alias: str | None = None
    is_english: Any = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class BlockedTemplate:
    id: str | None = None
    template_id: str | None = None
    status: Any = None
    raw: dict = field(default_factory=dict, repr=False)


# ------------------------------------------------------------------ senders
def list_senders(client: BicsClient, *, name: str | None = None) -> Iterator[Sender]:
    for item in client.iterate("sms.senders.list", params=filters(name=name)):
        yield build(Sender, item)


def create_sender(client: BicsClient, *, sender_id: str, country_code: str,
                  service: str) -> Sender:
    body = {"country_code": country_code, "name": sender_id, "service": service}
    resp = client.call("sms.senders.create", json=body)
    return build(Sender, first_object(resp.data) or body)


def get_sender(client: BicsClient, *, id: str) -> Sender:  # noqa: A002
    return build(Sender, first_object(client.call("sms.senders.get", path_params={"id": id}).data))


def update_sender(client: BicsClient, *, id: str, country_code: str | None = None,  # noqa: A002
                  service: str | None = None) -> Sender:
    resp = client.call("sms.senders.update", path_params={"id": id},
                       json=compact(country_code=country_code, service=service))
    return build(Sender, first_object(resp.data))


def delete_sender(client: BicsClient, *, id: str) -> None:  # noqa: A002
    client.call("sms.senders.delete", path_params={"id": id})


# ------------------------------------------------------------------ templates
def list_templates(client: BicsClient, *, name: str | None = None) -> Iterator[Template]:
    for item in client.iterate("sms.templates.list", params=filters(name=name)):
        yield build(Template, item)


def create_template(client: BicsClient, *, name: str, body: str, sender: str,
                    type: str | None = None) -> Template:  # noqa: A002
    payload = compact(body=body, name=name, sender=sender, type=type)
    resp = client.call("sms.templates.create", json=payload)
    return build(Template, first_object(resp.data) or payload)


def get_template(client: BicsClient, *, id: str) -> Template:  # noqa: A002
    resp = client.call("sms.templates.get", path_params={"id": id})
    return build(Template, first_object(resp.data))


def update_template(client: BicsClient, *, id: str, type: str, body: str | None = None,  # noqa: A002
                    name: str | None = None, is_english: bool | str | None = None) -> Template:
    if isinstance(is_english, bool):
        is_english = "1" if is_english else "0"
    resp = client.call("sms.templates.update", path_params={"id": id},
                       json=compact(type=type, body=body, name=name, is_english=is_english))
    return build(Template, first_object(resp.data))


def delete_template(client: BicsClient, *, id: str) -> None:  # noqa: A002
    client.call("sms.templates.delete", path_params={"id": id})


# ------------------------------------------------------------------ unsubscribers
# The seven operations are the same in sms, voice, viber and whatsapp: bics/_unsubscribers.py
(list_unsubscribers, create_unsubscriber, clean_unsubscribers, get_unsubscriber,
 update_unsubscriber, delete_unsubscriber, import_unsubscribers) = _unsubscribers.family(
    "sms", "SMS suppression list")


# ------------------------------------------------------------------ blocked templates
def list_blocked_templates(client: BicsClient, *, id: str | None = None,  # noqa: A002
                           template_id: str | None = None,
                           status: str | None = None) -> Iterator[BlockedTemplate]:
    params = filters(id=id, template_id=template_id, status=status)
    for item in client.iterate("sms.blocked_templates.list", params=params):
        yield build(BlockedTemplate, item)


def create_blocked_template(client: BicsClient, *, template_id: str,
                            status: str | None = None) -> BlockedTemplate:
    body = compact(template_id=template_id, status=status)
    resp = client.call("sms.blocked_templates.create", json=body)
    return build(BlockedTemplate, first_object(resp.data) or body)


def clean_blocked_templates(client: BicsClient) -> None:
    """Delete ALL blocked templates at BICS (superusers, after an export)."""
    client.call("sms.blocked_templates.clean")


def get_blocked_template(client: BicsClient, *, id: str) -> BlockedTemplate:  # noqa: A002
    resp = client.call("sms.blocked_templates.get", path_params={"id": id})
    return build(BlockedTemplate, first_object(resp.data))


def update_blocked_template(client: BicsClient, *, id: str, template_id: str,  # noqa: A002
                            status: str | None = None) -> BlockedTemplate:
    resp = client.call("sms.blocked_templates.update", path_params={"id": id},
                       json=compact(template_id=template_id, status=status))
    return build(BlockedTemplate, first_object(resp.data))


def delete_blocked_template(client: BicsClient, *, id: str) -> None:  # noqa: A002
    client.call("sms.blocked_templates.delete", path_params={"id": id})


def import_blocked_templates(client: BicsClient, *, file: Any, filename: str | None = None,
                             caption: str | None = None) -> Accepted:
    name, content = upload(file, filename)
    resp = client.call("sms.blocked_templates.import", files={"url": (name, content)},
                       data=compact(caption=caption, filename=filename))
    return Accepted(resp.message, resp.data, resp.raw)


# ------------------------------------------------------------------ sending
def send_message(client: BicsClient, *, to: list[str], message: str, sender: str,  # noqa: PLR0913
                 service: str, custom: str | None = None, type: str | None = None,  # noqa: A002
                 time: dt.datetime | str | None = None, flash: bool | None = None,
                 port: str | None = None, max_units: int | None = None,
                 webhook_id: str | None = None, meta: dict | None = None) -> SendResult:
    """Send one text to one or more numbers (one request; never retried once sent).

    ``custom`` is our unique id for the batch; the DLR pull takes it as ``?cid=`` ("Your
    custom ID") and the items carry it back in ``custom`` (their own ``cid`` may differ):
    that is how an unknown outcome (``BicsOutcomeUnknown``) is reconciled. ``type`` (U, N,
    A) is sent only when given: the documentation states no default, so BICS's applies;
    ``bics.units.count(message, type)`` gives the parts it bills.
    """
    body = compact(sender=sender, to=list(to), message=message, service=service, type=type,
                   time=fmt_time(time), flash=None if flash is None else int(bool(flash)),
                   custom=custom, port=port, max_units=max_units, webhook_id=webhook_id,
                   meta=meta)
    resp = client.call("sms.messages.send", json=body)
    if not isinstance(resp.data, list):  # Send Message answers one item per recipient in `data`
        shape = resp.data.__class__.__name__ if resp.data is not None else "missing"  # (`type` is a parameter)
        raise BicsOutcomeUnknown("sms.messages.send", resp.http_status, "malformed", None,
                                 f"malformed answer from BICS: `data` is {shape}, not the list of recipients "
                                 "(no message ids)")
    return SendResult.from_response(resp)


def send_template(client: BicsClient, *, to: str, data: dict, alias: str | None = None,
                  id: str | None = None, meta: dict | None = None) -> SendResult:  # noqa: A002
    """Send a registered template by alias or id; ``data`` fills its {{variables}}."""
    if not alias and not id:
        raise ValueError("send_template needs alias or id")
    body = compact(alias=alias, id=id, data=data, meta=meta, recipient={"mobile": to})
    return SendResult.from_response(client.call("sms.messages.send_template", json=body))


def send_text(client: BicsClient, *, to: str, channels: list[dict],
              message: dict | None = None) -> SendResult:
    """The channels-style 'Send Text Message' (contents of channels/message collapsed)."""
    body = compact(channels=channels, message=message, recipient={"mobile": to})
    return SendResult.from_response(client.call("sms.messages.send_text", json=body))


def pull_dlr(client: BicsClient, *, id: str | None = None, mobile: str | None = None,  # noqa: A002
             cid: str | None = None, date: dt.date | str | None = None,
             group_id: str | None = None) -> Iterator[Dlr]:
    """Delivery reports; pages of 100 when ``group_id`` or ``date`` is given."""
    if isinstance(date, dt.date):
        date = date.strftime("%Y-%m-%d")
    params = compact(id=id, mobile=mobile, cid=cid, date=date, group_id=group_id)
    for item in client.iterate("sms.messages.dlr", params=params):
        yield build(Dlr, item)


def list_pricing(client: BicsClient, *, iso: str | None = None, service: str | None = None,
                 status: str | None = None) -> Iterator[Price]:
    params = filters(iso=iso, service=service, status=status)
    for item in client.iterate("sms.pricing.list", params=params):
        yield build(Price, item)
