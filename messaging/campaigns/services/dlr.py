"""Delivery reports: the ONE function that changes a message's status, and the recording of
raw DLRs (pulled, pushed by webhook, or found by a reconciliation).

``message_apply_status`` never moves a message backwards: it is one conditional UPDATE whose
``WHERE status IN (...)`` lists the statuses the new one may follow, so concurrent writers
(DLR poll, webhooks, the engine recording a send answer) cannot undo each other::

    queued -> unknown -> submitted -> delivered -> read
                                   \\-> failed | rejected | expired   (final)

``delivered`` stays delivered (only ``read`` follows it); failed, rejected and expired are
final. A report that arrives late is still stored (``DeliveryReport.applied`` = False).

The webhooks processor calls ``dlr_record(channel=..., item=payload, source="webhook")``
for ``sms:message:status``, ``whatsapp:message:status`` and ``viber:message:status``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from messaging.campaigns import dlr_codes
from messaging.campaigns.models import DeliveryReport, Message, MessageStatus

# the parsing helpers live with the set path; the engine and the poll use them under these names
from messaging.campaigns.services.dlr_sets import as_dict as _as_dict  # noqa: F401
from messaging.campaigns.services.dlr_sets import parse_time as _parse_time  # noqa: F401
from messaging.campaigns.services.dlr_sets import to_e164 as _to_e164  # noqa: F401

S = MessageStatus
# new status -> the statuses it may replace
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    S.QUEUED: (),
    S.UNKNOWN: (S.QUEUED,),
    S.SUBMITTED: (S.QUEUED, S.UNKNOWN),
    S.DELIVERED: (S.QUEUED, S.UNKNOWN, S.SUBMITTED),
    S.READ: (S.QUEUED, S.UNKNOWN, S.SUBMITTED, S.DELIVERED),
    S.FAILED: (S.QUEUED, S.UNKNOWN, S.SUBMITTED),
    S.REJECTED: (S.QUEUED, S.UNKNOWN, S.SUBMITTED),
    S.EXPIRED: (S.QUEUED, S.UNKNOWN, S.SUBMITTED),
}


def can_move(old: str, new: str) -> bool:
    return old in ALLOWED_FROM.get(new, ())


def message_apply_status(  # noqa: PLR0913
    *,
    message: Message | int,
    status: str,
    bics_status: str = "",
    code: str = "",
    description: str | None = None,
    bics_message_id: str = "",
    group_id: str = "",
    at: datetime | None = None,
    price: Decimal | None = None,
    parts: int | None = None,
) -> bool:
    """Move ``message`` (instance or id) to ``status`` if that is forward; True when it moved.

    Ids BICS gave (``bics_message_id``, ``group_id``) are filled in when still blank, whether
    or not the status moves. ``at`` is when it happened (default now): ``submitted_at`` for
    submitted, ``delivered_at`` for delivered/read.
    """
    message_id = message.pk if isinstance(message, Message) else int(message)
    at = at or timezone.now()
    if bics_message_id:
        Message.objects.filter(pk=message_id, bics_message_id="").update(bics_message_id=bics_message_id)
    if group_id:
        Message.objects.filter(pk=message_id, group_id="").update(group_id=group_id)
    allowed = ALLOWED_FROM.get(status)
    if not allowed:
        return False
    changes: dict[str, Any] = {"status": status, "status_at": timezone.now()}
    if bics_status:
        changes["bics_status"] = bics_status[:32]
    if status == S.SUBMITTED:
        changes["submitted_at"] = at
    if status in (S.DELIVERED, S.READ):
        changes["delivered_at"] = at
    if status in (S.FAILED, S.REJECTED, S.EXPIRED):
        changes["error_code"] = (code or "")[:8]
        changes["error_description"] = (
            description if description is not None else dlr_codes.describe(bics_status, code))[:255]
    if price is not None:
        changes["price"] = price
    if parts:
        changes["parts"] = parts
    moved = Message.objects.filter(pk=message_id, status__in=allowed).update(**changes)
    if moved and isinstance(message, Message):
        for key, value in changes.items():
            setattr(message, key, value)
    if status == S.SUBMITTED and not moved:
        # a late send answer after a DLR: keep when it was submitted
        Message.objects.filter(pk=message_id, submitted_at__isnull=True).update(submitted_at=at)
    return bool(moved)


def find_message(*, channel: str, bics_message_id: str = "", cid: str = "", mobile: str = "") -> Message | None:
    """The message a DLR is about: by BICS's message id, then by ``cid`` (our ``custom``:
    the message's own ``custom_id``, or its batch's ``custom`` with the number)."""
    qs = Message.objects.filter(channel=channel) if channel else Message.objects.all()
    if bics_message_id:
        found = qs.exclude(bics_message_id="").filter(bics_message_id=bics_message_id).first()
        if found:
            return found
    if cid:
        found = qs.filter(custom_id=cid).first()
        if found:
            return found
        if mobile:
            return qs.filter(batch__custom=cid, number=mobile).first()
    return None


def dlr_record(*, channel: str, item, source: str = DeliveryReport.Source.PULL,
               message: Message | None = None) -> DeliveryReport:
    """Store one raw DLR (a dict as BICS sends it, or a ``bics`` Dlr/ChannelDlr) and apply
    its status to the message it is about: the set path (``dlr_sets.dlr_apply_many``) with
    a set of one, so every report goes through the same rules.

    Fields read: ``id`` (BICS message id), ``custom`` (ours; never ``cid``), ``mobile``, ``status``,
    ``code``, ``deliv_time``/``updated_at``, ``submit_time``, ``credits``, ``units``,
    ``group_id``. Returns the ``DeliveryReport`` (``applied`` tells whether the status moved;
    ``message`` is None when no message matched).
    """
    from messaging.campaigns.services.dlr_sets import dlr_apply_many

    return dlr_apply_many(channel=channel, items=[item], source=source, messages=[message])[0]


def pending_dlr_q() -> Q:
    """Messages BICS took and that have no final status yet."""
    return Q(status=S.SUBMITTED)


# --------------------------------------------------------------------------- polling
def poll_budget() -> int:
    """GETs one poll may spend (the account has 1000/minute, shared with everything else;
    the client's token bucket enforces the rate, this keeps one poll from hogging it)."""
    from django.conf import settings

    return int(getattr(settings, "CAMPAIGN_DLR_POLL_MAX_GETS", 300))


def dlr_poll(*, campaign_id: int | None = None, max_gets: int | None = None) -> dict[str, int]:
    """One DLR poll for messages that are submitted and not final.

    SMS: the paginated pull by ``group_id`` (pages of 100), oldest groups first; WhatsApp and
    Viber (pull by ``id`` or ``mobile`` only): one GET per message. Stops when ``max_gets``
    GETs are spent. Intermediate reports (still SUBMITTED) are not stored. Returns counts.
    """
    from bics.errors import BicsError
    from core.bics import get_client

    budget = poll_budget() if max_gets is None else max_gets
    pending = Message.objects.filter(status=S.SUBMITTED)
    if campaign_id:
        pending = pending.filter(campaign_id=campaign_id)
    counts = {"gets": 0, "reports": 0, "applied": 0, "groups": 0}
    client = get_client()
    try:
        if _poll_sms_groups(client, pending, budget, counts):
            _poll_chat_messages(client, pending, budget, counts)
    except BicsError as exc:
        counts["error"] = 1
        import logging

        logging.getLogger(__name__).warning("DLR poll stopped: %s", exc)
    return counts


def _count_report(counts: dict, channel: str, data: dict, message=None) -> None:
    """Store a final (or intermediate past SUBMITTED) report and count it."""
    report = dlr_record(channel=channel, item=data, source=DeliveryReport.Source.PULL, message=message)
    counts["reports"] += 1
    counts["applied"] += int(report.applied)


def _poll_sms_groups(client, pending, budget: int, counts: dict) -> bool:
    """SMS by group, oldest first; False when the budget ran out."""
    import math

    groups = (pending.filter(channel="sms").exclude(group_id="").order_by().values("group_id")
              .annotate(first=models_min("submitted_at")).order_by("first").values_list("group_id", flat=True))
    for group_id in groups.iterator():
        if counts["gets"] >= budget:
            return False
        items = list(_pull_group(client, group_id, budget - counts["gets"]))
        counts["gets"] += max(1, math.ceil(len(items) / 100))
        counts["groups"] += 1
        for item in items:
            data = _as_dict(item)
            if dlr_codes.message_status_for(data.get("status"), data.get("code"), channel="sms") not in (None, S.SUBMITTED):
                _count_report(counts, "sms", data)
    return True


def _poll_chat_messages(client, pending, budget: int, counts: dict) -> None:
    """WhatsApp and Viber: one GET per message, by its id or else its number."""
    from bics import viber, whatsapp

    for channel, module in (("whatsapp", whatsapp), ("viber", viber)):
        for message_id, bics_id, number in pending.filter(channel=channel).order_by("submitted_at").values_list(
                "pk", "bics_message_id", "number").iterator():
            if counts["gets"] >= budget:
                return
            items = list(module.pull_dlr(client, id=bics_id) if bics_id else module.pull_dlr(client, mobile=number))
            counts["gets"] += 1
            for item in items:
                if not (bics_id or len(items) == 1):
                    continue
                data = _as_dict(item)
                if dlr_codes.message_status_for(data.get("status"), channel=channel) in (None, S.SUBMITTED):
                    continue
                _count_report(counts, channel, data, message=Message.objects.get(pk=message_id))


def models_min(field_name: str):
    from django.db.models import Min

    return Min(field_name)


def _pull_group(client, group_id: str, max_pages: int):
    """SMS DLR pull by group_id, at most ``max_pages`` GETs."""
    yield from client.iterate("sms.messages.dlr", params={"group_id": group_id}, max_pages=max(1, max_pages))
