"""Delivery reports: the ONE function that changes a message's status, and the recording of
raw DLRs (pulled, pushed by webhook, or found by a reconciliation).

``message_apply_status`` never moves a message backwards: it is one conditional UPDATE whose
``WHERE status IN (...)`` lists the statuses the new one may follow, so concurrent writers
(DLR poll, webhooks, the engine recording a send answer) cannot undo each other::

    queued -> unknown -> submitted -> delivered -> read
                                   \\-> failed | rejected | expired   (final)

``delivered`` stays delivered (only ``read`` follows it); failed, rejected and expired are
final. A report that arrives late is still stored (``DeliveryReport.applied`` = False).
The rules (``ALLOWED_FROM``) and the reading of a report (``parse_dlr``) are in ``dlr_rules``.

``dlr_record`` stores and applies one report (the reconciliation of a send, a single webhook
event processed again); the DLR poll applies each page it pulls as a set, through
``dlr_sets.dlr_apply_set``, the apply path of the webhook drain.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.bics_time import parse_bics_time
from core.phones import e164_from_bics
from messaging.campaigns import dlr_codes
from messaging.campaigns.models import DeliveryReport, Message, MessageStatus
from messaging.campaigns.services.dlr_rules import ALLOWED_FROM, as_dict, can_move, parse_dlr  # noqa: F401 - named here too
from messaging.campaigns.services.dlr_sets import dlr_apply_set

S = MessageStatus
log = logging.getLogger(__name__)
POLL_SET = 500  # pulled reports applied per transaction
def message_apply_status(
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
        found = qs.exclude(bics_message_id="").filter(bics_message_id=bics_message_id).first()  # partial index
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
    its status to the message it is about (through ``message_apply_status``).

    Fields read: ``id`` (BICS message id), ``custom`` (ours; never ``cid``), ``mobile``, ``status``,
    ``code``, ``deliv_time``/``updated_at``, ``submit_time``, ``credits``, ``units``,
    ``group_id``. Returns the ``DeliveryReport`` (``applied`` tells whether the status moved;
    ``message`` is None when no message matched).
    """
    d = parse_dlr(channel, item)
    if message is None:
        message = find_message(channel=channel, bics_message_id=d.bics_id, cid=d.cid, mobile=d.mobile)
    applied = False
    if message is not None and d.new:
        applied = message_apply_status(
            message=message, status=d.new, bics_status=d.bics_status, code=d.code, bics_message_id=d.bics_id,
            group_id=str(d.data.get("group_id") or ""), at=d.at, price=d.price, parts=d.parts)
    return DeliveryReport.objects.create(
        message=message, channel=channel, source=source, bics_message_id=d.bics_id[:100], cid=d.cid[:64],
        mobile=d.mobile[:20], status=d.status_text[:32] or d.new or "", code=d.code[:8], applied=applied, raw=d.raw)


def pending_dlr_q() -> Q:
    """Messages BICS took and that have no final status yet."""
    return Q(status=S.SUBMITTED)


# --------------------------------------------------------------------------- polling
def poll_budget() -> int:
    """GETs one poll may spend (the account has 1000/minute, shared with everything else;
    the client's token bucket enforces the rate, this keeps one poll from hogging it)."""
    return int(getattr(settings, "CAMPAIGN_DLR_POLL_MAX_GETS", 300))


def dlr_max_age() -> timedelta:
    return timedelta(hours=float(getattr(settings, "CAMPAIGN_DLR_MAX_AGE_HOURS", 72)))


def channel_window() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "CAMPAIGN_CHANNEL_RECONCILE_WINDOW", 600)))


def messages_give_up(*, now: datetime | None = None) -> int:
    """Submitted messages older than ``CAMPAIGN_DLR_MAX_AGE_HOURS`` become ``unreported``
    (final for polling; a report that still comes replaces it): one conditional UPDATE."""
    now = now or timezone.now()
    hours = dlr_max_age().total_seconds() / 3600
    return Message.objects.filter(status=S.SUBMITTED, submitted_at__lt=now - dlr_max_age()).update(
        status=S.UNREPORTED, status_at=now, error_description=f"No final delivery report within {hours:g} hours.")


def dlr_poll(*, campaign_id: int | None = None, max_gets: int | None = None) -> dict[str, int]:
    """One DLR poll for messages that are submitted and not final.

    Messages past the age limit are given up first (``unreported``). SMS: the paginated pull
    by ``group_id`` (pages of 100), or by ``cid`` (our ``custom``) for sends BICS gave no group
    (template sends); WhatsApp and Viber (pull by ``id`` or ``mobile`` only): one GET per
    message. Least recently polled first, newest first among equals, so old messages do not
    use up the budget every time. Stops when ``max_gets`` GETs are spent. Returns counts.
    """
    from bics.errors import BicsError
    from core.bics import get_client

    budget = poll_budget() if max_gets is None else max_gets
    counts = {"gets": 0, "reports": 0, "applied": 0, "groups": 0, "unreported": messages_give_up()}
    pending = Message.objects.filter(status=S.SUBMITTED)
    if campaign_id:
        pending = pending.filter(campaign_id=campaign_id)
    client = get_client()
    try:
        if _poll_sms(client, pending, budget, counts):
            _poll_chat_messages(client, pending, budget, counts)
    except BicsError as exc:
        counts["error"] = 1
        log.warning("DLR poll stopped: %s", exc)
    return counts


def _apply_reports(counts: dict, channel: str, items: list[dict], message_ids: list[int] | None = None) -> None:
    """Store and apply pulled reports as sets (``dlr_apply_set``, each set one transaction:
    its status moves and its stored reports commit together) and count them."""
    for start in range(0, len(items), POLL_SET):
        ids = message_ids[start:start + POLL_SET] if message_ids is not None else None
        with transaction.atomic():
            results = dlr_apply_set(channel=channel, items=items[start:start + POLL_SET],
                                    source=DeliveryReport.Source.PULL, message_ids=ids)
        counts["reports"] += len(results)
        counts["applied"] += sum(1 for _message, applied in results if applied)


def _due_order(rows, limit: int):
    """Never polled first, then least recently polled; newest submission first among equals."""
    rows = rows.annotate(polled=Max("dlr_polled_at"), newest=Max("submitted_at"))
    return rows.order_by(F("polled").asc(nulls_first=True), F("newest").desc(nulls_last=True))[:limit]


def _sms_work(pending, budget: int) -> list[tuple[str, str]]:
    """(query key, value) pairs: ``group_id`` for sends with a group, else ``cid``."""
    sms = pending.filter(channel="sms").order_by()
    groups = _due_order(sms.exclude(group_id="").values("group_id"), budget)
    cids = _due_order(sms.filter(group_id="").annotate(key=Coalesce("batch__custom", "custom_id")).values("key"),
                      budget)
    work = [(r["polled"], r["newest"], "group_id", r["group_id"]) for r in groups]
    work += [(r["polled"], r["newest"], "cid", r["key"]) for r in cids]
    oldest = datetime.min.replace(tzinfo=UTC)
    work.sort(key=lambda w: (w[0] is not None, w[0] or oldest, -(w[1] or oldest).timestamp()))
    return [(key, value) for _p, _n, key, value in work[:budget]]


def _poll_sms(client, pending, budget: int, counts: dict) -> bool:
    """SMS by group or cid; False when the budget ran out."""
    import math

    for key, value in _sms_work(pending, budget):
        if counts["gets"] >= budget:
            return False
        items = list(client.iterate("sms.messages.dlr", params={key: value},
                                    max_pages=max(1, budget - counts["gets"])))
        counts["gets"] += max(1, math.ceil(len(items) / 100))
        counts["groups"] += 1
        polled = pending.filter(group_id=value) if key == "group_id" else pending.filter(
            Q(batch__custom=value) | Q(custom_id=value), group_id="")
        polled.update(dlr_polled_at=timezone.now())
        reports = [data for data in map(as_dict, items)
                   if dlr_codes.message_status_for(data.get("status"), data.get("code"), channel="sms")
                   not in (None, S.SUBMITTED)]
        _apply_reports(counts, "sms", reports)
    return counts["gets"] < budget


def _poll_chat_messages(client, pending, budget: int, counts: dict) -> None:
    """WhatsApp and Viber: one GET per message, by its id or else its number; each channel's
    reports applied as a set (the message is known: no matching by the set)."""
    from bics import viber, whatsapp

    for channel, module in (("whatsapp", whatsapp), ("viber", viber)):
        found: list[tuple[dict, int]] = []
        rows = pending.filter(channel=channel).order_by(F("dlr_polled_at").asc(nulls_first=True), "-submitted_at")
        for message in rows[:budget]:
            if counts["gets"] >= budget:
                break
            by_id = bool(message.bics_message_id)
            items = [as_dict(i) for i in (module.pull_dlr(client, id=message.bics_message_id) if by_id
                                          else module.pull_dlr(client, mobile=message.number))]
            counts["gets"] += 1
            Message.objects.filter(pk=message.pk).update(dlr_polled_at=timezone.now())
            item = (items[0] if items else None) if by_id else chat_item_for(message, items)
            if item is not None and dlr_codes.message_status_for(item.get("status"), channel=channel) not in (
                    None, S.SUBMITTED):
                found.append((item, message.pk))
        _apply_reports(counts, channel, [item for item, _pk in found], [pk for _item, pk in found])
        if counts["gets"] >= budget:
            return


def chat_item_for(message: Message, items: list[dict]) -> dict | None:
    """The WhatsApp/Viber report among ``items`` (pulled by number) that is this message's,
    or None. Ours by our custom id when the item carries one; else by number AND time: the
    item is for this number, no other message of ours has its id, it was updated within
    ``CAMPAIGN_CHANNEL_RECONCILE_WINDOW`` of this message's submission, and neither another
    message of ours to that number without an id nor another such item could be it. (The
    items carry no template, so only number and time can tell; a later report comes by webhook
    or by id, else the age limit ends the wait.)"""
    for item in items:
        if message.custom_id and message.custom_id in (str(item.get("custom") or ""), str(item.get("cid") or "")):
            return item
    if message.submitted_at is None:
        return None
    start, end = message.submitted_at - channel_window(), message.submitted_at + channel_window()
    known = set(Message.objects.filter(bics_message_id__in=[str(i.get("id") or "") for i in items])
                .exclude(bics_message_id="").values_list("bics_message_id", flat=True))
    candidates = []
    for item in items:
        when = parse_bics_time(item.get("updated_at") or item.get("deliv_time"))
        if (e164_from_bics(item.get("mobile")) == message.number and str(item.get("id") or "") not in known
                and when is not None and start <= when <= end):
            candidates.append(item)
    rivals = Message.objects.filter(channel=message.channel, number=message.number, bics_message_id="",
                                    submitted_at__gte=start, submitted_at__lte=end).exclude(pk=message.pk)
    if len(candidates) != 1 or rivals.exists():
        return None
    return candidates[0]
