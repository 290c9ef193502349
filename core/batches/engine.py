"""The functions of the batch engine: claim, claim next, send, send many, sweep, reconcile,
finish. Each takes the ``BatchKind`` first."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from bics.errors import BicsError
from core.batches.kinds import BatchKind, Claim, Lookup, Skip, SkipAction
from core.batches.models import BatchState
from core.batches.outcomes import Answer, Outcome, outcome_of

log = logging.getLogger(__name__)
S = BatchState
WORKER = f"{socket.gethostname()}:{os.getpid()}"
ERROR_MAX = 2000


def _claimed_by() -> str:
    return f"{WORKER}:{threading.get_ident()}"[:200]


def _claim_fields(token: uuid.UUID) -> dict:
    return {"state": S.CLAIMED, "claim_token": token, "claimed_at": timezone.now(),
            "claimed_by": _claimed_by(), "attempts": F("attempts") + 1}


def _locked(queryset: QuerySet) -> QuerySet:
    """Rows locked for this transaction, skipping those another worker holds, where the
    database can (PostgreSQL); SQLite has one writer at a time anyway."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def owned(kind: BatchKind, claim: Claim) -> QuerySet:
    """The batch, only while ``claim`` still holds it."""
    return kind.model.objects.filter(pk=claim.batch_id, claim_token=claim.token, state=S.CLAIMED)


# --------------------------------------------------------------------------- claims
def claim(kind: BatchKind, batch_id: int) -> Claim | None:
    """Claim a pending batch; None when someone else has (or had) it."""
    token = uuid.uuid4()
    moved = kind.model.objects.filter(pk=batch_id, state=S.PENDING).update(**_claim_fields(token))
    return Claim(batch_id, token) if moved else None


def claim_next(kind: BatchKind, queryset: QuerySet, *, limit: int = 1) -> list[Claim]:
    """Claim up to ``limit`` pending batches of ``queryset``, in its order, in one UPDATE
    (they share a token; each moves only if still pending). Where the database has it, the
    candidates are picked with ``SELECT … FOR UPDATE SKIP LOCKED``, so racing workers take
    different batches instead of waiting on each other."""
    pending = queryset.filter(state=S.PENDING)
    if not pending.query.order_by:
        pending = pending.order_by("pk")
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(_locked(pending).values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        kind.model.objects.filter(pk__in=ids, state=S.PENDING).update(**_claim_fields(token))
        won = set(kind.model.objects.filter(pk__in=ids, claim_token=token).values_list("pk", flat=True))
    return [Claim(batch_id, token) for batch_id in ids if batch_id in won]


# --------------------------------------------------------------------------- sending
def _apply_skip(kind: BatchKind, claim: Claim, skip: Skip) -> BatchState:
    error = skip.reason[:ERROR_MAX]
    if skip.action is SkipAction.RELEASE:
        owned(kind, claim).update(state=S.PENDING, claim_token=None, error=error)
        return S.PENDING
    if skip.action is SkipAction.FAIL:
        owned(kind, claim).update(state=S.FAILED, error=error)
        return S.FAILED
    owned(kind, claim).update(state=S.SENT, sent_at=timezone.now(), error=error)
    return S.SENT


def call(kind: BatchKind, request) -> Answer:
    """One request, its errors mapped to an outcome (no database access)."""
    try:
        result = kind.send(request)
    except BicsError as exc:
        return Answer(outcome_of(exc), error=str(exc))
    return Answer(Outcome.SENT, result=result)


def record(kind: BatchKind, claim: Claim, request, answer: Answer) -> BatchState:
    """Write an answer: only while ``claim`` holds the batch, except that an accepted request
    is recorded even after the sweeper took the claim over (BICS has it: it is sent). The
    state moves in one conditional UPDATE; the kind's extra fields (group id...) follow."""
    error = answer.error[:ERROR_MAX]
    with transaction.atomic():
        if answer.outcome is Outcome.RETRY:
            owned(kind, claim).update(state=S.PENDING, claim_token=None, error=error)
            return S.PENDING
        if answer.outcome in (Outcome.UNKNOWN, Outcome.FAILED):
            state = S.UNKNOWN if answer.outcome is Outcome.UNKNOWN else S.FAILED
            if owned(kind, claim).update(state=state, error=error):
                kind.on_failed([claim.batch_id], answer.outcome, answer.error)
            return state
        sent = {"state": S.SENT, "sent_at": timezone.now(), "error": ""}
        # BICS accepted it: sent, even when the sweeper took the claim over meanwhile
        moved = owned(kind, claim).update(**sent) or kind.model.objects.filter(
            pk=claim.batch_id).exclude(state=S.SENT).update(**sent)
        if moved:  # not when a reconciliation recorded it first
            extra = kind.on_sent(claim, request, answer.result)
            if extra:
                kind.model.objects.filter(pk=claim.batch_id).update(**extra)
    return S.SENT


def send(kind: BatchKind, batch_id: int, *, token: uuid.UUID | None = None) -> BatchState | None:
    """Claim (unless ``token`` says we hold it), send and record one batch. Returns its state,
    or None when the batch is not ours (a redelivered task, or the sweeper took it over)."""
    if token is not None:
        current = Claim(batch_id, token)
        if not owned(kind, current).exists():
            return None
    else:
        current = claim(kind, batch_id)
        if current is None:
            return None
    (request,) = kind.prepare([current])
    if isinstance(request, Skip):
        state = _apply_skip(kind, current, request)
    else:
        state = record(kind, current, request, call(kind, request))
    if state in (S.SENT, S.FAILED):
        finish(kind, [batch_id])
    return state


def send_many(kind: BatchKind, claims: list[Claim], *, workers: int = 8,
              pool: ThreadPoolExecutor | None = None) -> Counter:
    """Send claimed batches: preparation and recording in this thread, one transaction each
    for the lot (SQLite: one commit, not dozens), the requests in a thread pool (``pool``,
    or one of ``workers`` threads for this call)."""
    counts: Counter = Counter()
    ready = []
    with transaction.atomic():
        for current, request in zip(claims, kind.prepare(claims), strict=True):
            if isinstance(request, Skip):
                counts[_apply_skip(kind, current, request)] += 1
            else:
                ready.append((current, request))
    if ready:
        requests = [request for _claim, request in ready]
        if pool is not None and len(ready) > 1:
            answers = list(pool.map(lambda r: call(kind, r), requests))
        elif workers <= 1 or len(ready) == 1:
            answers = [call(kind, r) for r in requests]
        else:
            with ThreadPoolExecutor(max_workers=min(workers, len(ready))) as own:
                answers = list(own.map(lambda r: call(kind, r), requests))
        with transaction.atomic():
            for (current, request), answer in zip(ready, answers, strict=True):
                counts[record(kind, current, request, answer)] += 1
    finish(kind, [c.batch_id for c in claims])
    return counts


def finish(kind: BatchKind, batch_ids: list[int]) -> None:
    """Close the parents of ``batch_ids`` that have no open batch left (the kind decides)."""
    if batch_ids:
        kind.finish_if_done(list(batch_ids))


# --------------------------------------------------------------------------- recovery
def sweep(kind: BatchKind, *, now: datetime | None = None) -> dict[str, int]:
    """Batches claimed longer ago than the claim timeout belong to a dead worker: their
    outcome is unknown (the request may have left), so they are reconciled, never resent.
    Pending batches whose task may be lost are queued again, at most once per timeout."""
    now = now or timezone.now()
    cutoff = now - kind.claim_timeout()
    stale = kind.model.objects.filter(state=S.CLAIMED, claimed_at__lt=cutoff)
    error = "Claimed by a worker that did not finish."
    with transaction.atomic():
        # locked first (where the database can), so every id read is an id moved
        ids = list(_locked(stale).order_by("pk").values_list("pk", flat=True)[:5000])
        moved = stale.filter(pk__in=ids).update(state=S.UNKNOWN, claim_token=None, error=error)
        if ids:
            kind.on_failed(ids, Outcome.UNKNOWN, error)
    lost = list(kind.lost(cutoff).filter(state=S.PENDING).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff)).values_list("pk", flat=True))
    if lost:
        kind.enqueue(lost)
    return {"stale": moved, "requeued": len(lost)}


def reconcile(kind: BatchKind, batch_id: int, *, now: datetime | None = None) -> BatchState:
    """An ``unknown`` batch: look BICS up before anything is resent. Found members are sent
    (never again); before the grace period a batch is only concluded when BICS knows all of
    it (it may not list a fresh request yet); after it, the unknown members go again."""
    now = now or timezone.now()
    batch = kind.model.objects.get(pk=batch_id)
    if batch.state != S.UNKNOWN:
        return BatchState(batch.state)
    try:
        lookup = kind.lookup(batch)
    except BicsError as exc:
        log.warning("%s %s: reconcile postponed: %s", kind.model.__name__, batch_id, exc)
        return S.UNKNOWN
    claimed = batch.claimed_at or now
    if lookup.missing and now - claimed < kind.reconcile_grace():
        return S.UNKNOWN
    state = _conclude(kind, batch, lookup, claimed)
    if state is S.SENT:
        finish(kind, [batch_id])
    return state


def _conclude(kind: BatchKind, batch, lookup: Lookup, claimed: datetime) -> BatchState:
    unknown = kind.model.objects.filter(pk=batch.pk, state=S.UNKNOWN)
    with transaction.atomic():
        if lookup.missing and not lookup.found:
            if not unknown.update(state=S.PENDING, claim_token=None, error="Reconciled: BICS has none; sent again."):
                return BatchState(kind.model.objects.get(pk=batch.pk).state)
            kind.on_reconciled(batch, lookup)
            transaction.on_commit(lambda: kind.enqueue([batch.pk]))
            return S.PENDING
        error = f"Reconciled: {len(lookup.found)} found at BICS, {len(lookup.missing)} sent again."
        if not unknown.update(state=S.SENT, sent_at=Coalesce(F("sent_at"), claimed), error=error):
            return BatchState(kind.model.objects.get(pk=batch.pk).state)
        extra = kind.on_reconciled(batch, lookup)
        if extra is not None:
            transaction.on_commit(lambda: kind.enqueue([extra]))
    return S.SENT


def reconcile_all(kind: BatchKind, queryset: QuerySet | None = None, *, now: datetime | None = None,
                  limit: int = 500) -> Counter:
    """Reconcile the ``unknown`` batches of ``queryset`` (default: every batch of the kind)."""
    queryset = kind.model.objects.all() if queryset is None else queryset
    counts: Counter = Counter()
    for batch_id in queryset.filter(state=S.UNKNOWN).order_by("pk").values_list("pk", flat=True)[:limit]:
        counts[reconcile(kind, batch_id, now=now)] += 1
    return counts
