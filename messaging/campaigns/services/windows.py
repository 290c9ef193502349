"""Sending windows at launch and at send time.

``windows_assign`` runs in each launch chunk's transaction: each new batch is split so
that it holds recipients of one window (country and time zones; identical-text batching still
applies inside a window) and gets a ``BatchWindow`` with its next opening; the engine claims no
batch before that moment. ``window_closed`` is the engine's check right before a send: a batch
whose window is closed now goes back to pending with its next opening.

A campaign's validity (``Campaign.validity_hours``; BICS's Send Message has no validity
period, so it is kept here): recipients whose window opens after it are not sent to, and
``validity_passed`` stops any batch still queued once it has passed.
"""

from __future__ import annotations

import time
from collections import defaultdict

from django.db.models import Max
from django.utils import timezone

from messaging.campaigns.frequency_selectors import traffic_kind
from messaging.campaigns.models import BatchWindow, Campaign, Message, MessageStatus, SendBatch
from messaging.campaigns.windows import HORIZON_DAYS, Windows, place_of, validity_deadline

NO_WINDOW = f"Not sent: no sending window opens for this number in the next {HORIZON_DAYS} days."
PAST_VALIDITY = "Not sent: its sending window opens after the campaign's validity."
EXPIRED = "Not sent: the campaign's validity had passed."


def windows_assign(*, campaign: Campaign) -> int:
    """Split and tag the campaign's pending batches by window; returns the batches waiting."""
    traffic, windows = traffic_kind(campaign), Windows()
    if not windows.restricts(traffic):
        return 0
    start = max(timezone.now(), campaign.next_batch_at or timezone.now())
    deadline = validity_deadline(campaign, start)
    groups: dict[int, dict[tuple[str, str], list[int]]] = defaultdict(lambda: defaultdict(list))
    rows = (Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED, batch__isnull=False,
                                   batch__window__isnull=True)  # called per launch chunk: new batches only
            .values_list("pk", "batch_id", "number").iterator(chunk_size=5000))
    for pk, batch_id, number in rows:
        groups[batch_id][place_of(number)].append(pk)
    next_number = (SendBatch.objects.filter(campaign=campaign).aggregate(n=Max("number"))["n"] or 0) + 1
    tags, never, late, openings = [], [], [], {}
    for batch in SendBatch.objects.filter(pk__in=list(groups)).order_by("pk"):
        for i, (place, message_ids) in enumerate(sorted(groups[batch.pk].items())):
            target = batch if i == 0 else _split_off(batch, message_ids, f"{batch.custom}-w{i}", next_number)
            next_number += int(i > 0)
            if place not in openings:
                openings[place] = windows.next_opening(windows.rule(place[0], traffic), place[1], start)
            opening = openings[place]
            if opening is None:
                never.extend(message_ids)
            elif deadline is not None and opening > deadline:
                late.extend(message_ids)
            tags.append(BatchWindow(batch=target, country=place[0], zone=place[1],
                                    opens_at=opening if opening and opening > start else None))
    BatchWindow.objects.bulk_create(tags, batch_size=1000)
    for message_ids, reason in ((never, NO_WINDOW), (late, PAST_VALIDITY)):
        _not_sent(Message.objects.filter(pk__in=message_ids), reason)
    return sum(1 for t in tags if t.opens_at)


def _not_sent(messages, reason: str) -> int:
    """Queued messages that will never go: failed with ``reason`` (one conditional UPDATE)."""
    return messages.filter(status=MessageStatus.QUEUED).update(status=MessageStatus.FAILED,
                                                               error_description=reason, status_at=timezone.now())


def validity_passed(batch: SendBatch) -> bool:
    """The engine's check before a send: True when the batch's campaign is past its validity,
    its queued messages then marked not sent (the batch is done)."""
    deadline = validity_deadline(batch.campaign) if batch.campaign_id else None
    if deadline is None or timezone.now() <= deadline:
        return False
    _not_sent(Message.objects.filter(batch_id=batch.pk), EXPIRED)
    return True


def _split_off(batch: SendBatch, message_ids: list[int], custom: str, number: int) -> SendBatch:
    moved = SendBatch.objects.create(campaign_id=batch.campaign_id, number=number, custom=custom, text=batch.text,
                                     is_sample=batch.is_sample, size=len(message_ids))
    Message.objects.filter(pk__in=message_ids).update(batch=moved)
    SendBatch.objects.filter(pk=batch.pk).update(size=max(0, batch.size - len(message_ids)))
    return moved


_with_windows: dict[tuple, tuple[float, bool]] = {}  # (campaign id, launched at) -> (checked at, has windows)
RECHECK_SECONDS = 5.0


def _campaign_has_windows(campaign: Campaign) -> bool:
    """Whether the campaign's batches were tagged with windows, asked at most every few seconds
    per launch (the launch tags them in its own transaction, before any can be sent)."""
    key = (campaign.pk, campaign.launched_at)
    checked = _with_windows.get(key)
    if checked is not None and time.monotonic() - checked[0] < RECHECK_SECONDS:
        return checked[1]
    found = BatchWindow.objects.filter(batch__campaign_id=campaign.pk).exists()
    if len(_with_windows) > 1000:  # a long-lived worker: forget old launches
        _with_windows.clear()
    _with_windows[key] = (time.monotonic(), found)
    return found


def window_closed(batch: SendBatch) -> bool:
    """True when the batch's window is closed now (its next opening recorded): the engine gives
    the batch back until then, so nothing is sent outside a window."""
    if batch.campaign_id is None or not _campaign_has_windows(batch.campaign):
        return False
    tag = BatchWindow.objects.filter(batch_id=batch.pk).first()
    if tag is None:
        return False
    windows, now = Windows(), timezone.now()
    rule = windows.rule(tag.country, traffic_kind(batch.campaign))
    if windows.is_open(rule, tag.zone, now):
        return False
    opening = windows.next_opening(rule, tag.zone, now)
    deadline = validity_deadline(batch.campaign)
    if deadline is not None and opening is not None and opening > deadline:
        # it would wait past the validity: not sent, and the batch due at once (then done, nothing queued)
        _not_sent(Message.objects.filter(batch_id=batch.pk), PAST_VALIDITY)
        opening = None
    BatchWindow.objects.filter(pk=tag.pk).update(opens_at=opening)
    return True


def windows_waiting(campaign: Campaign) -> dict | None:
    """For the campaign page: pending batches waiting for a window, in how many countries,
    and the next opening. None when nothing waits."""
    waiting = BatchWindow.objects.filter(batch__campaign=campaign, batch__state=SendBatch.State.PENDING,
                                         opens_at__gt=timezone.now())
    first = waiting.order_by("opens_at").values_list("opens_at", flat=True).first()
    if first is None:
        return None
    return {"countries": waiting.values("country").distinct().count(), "next_opening": first,
            "batches": waiting.count()}
