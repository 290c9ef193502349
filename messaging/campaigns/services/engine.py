"""Sending campaign batches through the batch engine (``core.batches``), by campaign.

Life of a ``SendBatch`` (one request to BICS) is the engine's (see ``core.batches``): claimed
by one worker with one conditional UPDATE, sent at most once, answered -> sent/failed, a lost
answer or a dead worker -> unknown -> reconciled (``send_kind``: DLR pull by ``custom`` +
number for SMS, by number and time window for WhatsApp/Viber), never resent blindly. The
broker's redelivery is not the recovery path: the sweeper (``batches_sweep``, beat every
minute) is. A task that runs twice finds the batch no longer pending and does nothing.

What a campaign sends next is decided by ``dispatch.py``; this module is what it calls.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

from django.utils import timezone

from core import batches
from core.batches import BatchState, Claim, Senders
from core.batches.turns import writer_turns
from messaging.campaigns.models import SendBatch
from messaging.campaigns.services.send_kind import (
    KIND,
    channel_window,
    claim_timeout,
    concurrency,
    reconcile_grace,
)

__all__ = [
    "KIND",
    "batch_reconcile",
    "batch_send",
    "batches_reconcile",
    "batches_send",
    "batches_sweep",
    "channel_window",
    "claim_next",
    "claim_timeout",
    "concurrency",
    "reconcile_grace",
]


def claim_next(*, campaign_id: int, sample: bool, limit: int) -> list[Claim]:
    """Claim up to ``limit`` pending batches of a campaign (the sample's or the others'), in
    sending order, in one UPDATE."""
    from messaging.campaigns.models import BatchWindow  # sending windows: nothing before the next opening

    scope = SendBatch.objects.filter(campaign_id=campaign_id, is_sample=sample).order_by("number", "pk")
    scope = scope.exclude(pk__in=BatchWindow.objects.filter(opens_at__gt=timezone.now()).values("batch_id"))
    return batches.claim_next(KIND, scope, limit=limit)


def batch_send(batch_id: int, *, token: uuid.UUID | None = None) -> BatchState | None:
    """Claim (unless ``token`` says we hold it), send and record one batch: its new state, or
    None when it is not ours (a redelivered task, or the sweeper took the claim over). Its
    transactions take turns with the webhook receiver's appends (``writer_turns``)."""
    with writer_turns():
        return batches.send(KIND, batch_id, token=token)


def batches_send(claims: list[Claim], *, workers: int | None = None,
                 pool: Senders | None = None) -> Counter:
    """Send claimed batches: the requests by a bounded number of sender threads, the database touched by
    this thread only, taking turns with the webhook receiver's appends. Counts by the
    batches' new state."""
    with writer_turns():
        return batches.send_many(KIND, claims, workers=workers or concurrency(), pool=pool)


def batches_sweep(*, now: datetime | None = None) -> int:
    """Claims older than the claim timeout belong to a dead worker: unknown, to reconcile.
    Returns how many moved."""
    return batches.sweep(KIND, now=now)["stale"]


def batch_reconcile(batch_id: int, *, now: datetime | None = None) -> BatchState:
    return batches.reconcile(KIND, batch_id, now=now)


def batches_reconcile(*, campaign_id: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Reconcile the unknown batches (of one campaign, or all): how many ended in each state."""
    scope = SendBatch.objects.filter(campaign_id=campaign_id) if campaign_id else None
    return {str(state): n for state, n in batches.reconcile_all(KIND, scope, now=now).items()}
