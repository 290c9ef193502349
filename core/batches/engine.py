"""The functions of the batch engine: claim, claim next, send, send many, sweep, reconcile,
finish. Each takes the ``BatchKind`` first."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import Counter
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

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
        moved = kind.model.objects.filter(pk__in=ids, state=S.PENDING).update(**_claim_fields(token))
        if moved == len(ids):  # (read under lock: the usual case) every one is ours
            return [Claim(batch_id, token) for batch_id in ids]
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


def _for_update(queryset: QuerySet) -> QuerySet:
    """Rows locked until the transaction ends, waiting for another holder (PostgreSQL);
    SQLite's write lock, taken when the transaction began, already covers them."""
    if connection.features.has_select_for_update:
        return queryset.select_for_update(of=("self",))
    return queryset


def _record_not_sent(kind: BatchKind, claim: Claim, answer: Answer) -> BatchState:
    error = answer.error[:ERROR_MAX]
    if answer.outcome is Outcome.RETRY:
        owned(kind, claim).update(state=S.PENDING, claim_token=None, error=error)
        return S.PENDING
    state = S.UNKNOWN if answer.outcome is Outcome.UNKNOWN else S.FAILED
    if owned(kind, claim).update(state=state, error=error):
        kind.on_failed([claim.batch_id], answer.outcome, answer.error)
    return state


def _record_accepted(kind: BatchKind, accepted: list[tuple[Claim, Any, Answer]]) -> None:
    """BICS accepted these batches: sent, even those the sweeper took over meanwhile, but not
    those a reconciliation recorded first. The state moves in one UPDATE for the lot (the ids
    read under lock are the ids moved); the kind records their members in sets."""
    ids = {claim.batch_id for claim, _request, _answer in accepted}
    by_token = Q(pk__in=[])
    for token in {claim.token for claim, _request, _answer in accepted}:
        by_token |= Q(claim_token=token, pk__in=[c.batch_id for c, _r, _a in accepted if c.token == token])
    moved = set(_for_update(kind.model.objects.filter(by_token, state=S.CLAIMED)).values_list("pk", flat=True))
    if len(moved) < len(ids):
        moved |= set(_for_update(kind.model.objects.filter(pk__in=ids - moved).exclude(state=S.SENT))
                     .values_list("pk", flat=True))
    if not moved:
        return
    kind.model.objects.filter(pk__in=moved).exclude(state=S.SENT).update(state=S.SENT, sent_at=timezone.now(),
                                                                          error="")
    extras = kind.on_sent_many([(c, r, a.result) for c, r, a in accepted if c.batch_id in moved])
    by_fields: dict[tuple, list] = {}
    for batch_id, extra in extras.items():
        if extra:
            fields = tuple(sorted(extra))
            by_fields.setdefault(fields, []).append((batch_id, *(extra[f] for f in fields)))
    for fields, rows in by_fields.items():
        _update_from_values(kind.model, fields, rows)


def _update_from_values(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """``UPDATE … SET f = v.columnN FROM (VALUES (pk, value…), …)``: each row its own values,
    one statement per 500 rows (SQLite ≥ 3.33 and PostgreSQL name VALUES columns column1…)."""
    table = connection.ops.quote_name(model._meta.db_table)
    key = connection.ops.quote_name(model._meta.pk.column)
    columns = [model._meta.get_field(name) for name in fields]
    sets = ", ".join(f"{connection.ops.quote_name(f.column)} = v.column{i + 2}" for i, f in enumerate(columns))
    for start in range(0, len(rows), 500):
        part = rows[start:start + 500]
        values = ", ".join(["(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"] * len(part))
        params = [value for row in part for value in
                  (row[0], *(f.get_db_prep_save(v, connection) for f, v in zip(columns, row[1:], strict=True)))]
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS v "  # noqa: S608 - our names
                           f"WHERE {table}.{key} = v.column1", params)


def record_many(kind: BatchKind, answered: list[tuple[Claim, Any, Answer]]) -> list[BatchState]:
    """Write answers in one transaction, each only while its claim holds the batch, except
    that an accepted request is recorded even after the sweeper took the claim over (BICS has
    it: it is sent). Every state change is a conditional UPDATE; the accepted ones are
    recorded together (``_record_accepted``). Returns the new states, in order."""
    states: list[BatchState] = []
    with transaction.atomic():
        for claim, _request, answer in answered:
            states.append(S.SENT if answer.outcome is Outcome.SENT else _record_not_sent(kind, claim, answer))
        accepted = [item for item in answered if item[2].outcome is Outcome.SENT]
        if accepted:
            _record_accepted(kind, accepted)
    return states


def record(kind: BatchKind, claim: Claim, request, answer: Answer) -> BatchState:
    """Write one answer (``record_many`` of one)."""
    return record_many(kind, [(claim, request, answer)])[0]


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
    """Send claimed batches: preparation and recording in this thread, the requests in a
    thread pool (``pool``, or one of ``workers`` threads for this call; a single request, or
    ``workers`` 1, is sent in this thread). Counts by the batches' new state."""
    own = None
    if pool is None and workers > 1 and len(claims) > 1:
        own = pool = ThreadPoolExecutor(max_workers=min(workers, len(claims)))
    try:
        pipe = Pipeline(kind, pool)
        pipe.submit(claims)
        pipe.drain()
    finally:
        if own is not None:
            own.shutdown(wait=True)
    pipe.finish()
    return pipe.counts


class Pipeline:
    """Batches in flight: the requests run in a thread pool while this thread prepares the
    next claims and records the answers that came back, so the pool need not wait for the
    database (and the database for the slowest request). Answers are recorded in groups
    (``record_many``) of at most ``RECORD_WEIGHT`` members (``kind.weight``), each group its
    own short transaction. Only this thread touches the database."""

    RECORD_WEIGHT = 1000

    def __init__(self, kind: BatchKind, pool: ThreadPoolExecutor | None):
        self.kind, self.pool = kind, pool
        self.flying: dict[Future, tuple[Claim, Any]] = {}
        self.counts: Counter = Counter()
        self.settled: list[int] = []  # batch ids whose parent may be finished

    @property
    def in_flight(self) -> int:
        return len(self.flying)

    def submit(self, claims: list[Claim]) -> None:
        """Prepare the claims (outside any transaction: on SQLite one would hold the write lock
        while reading), apply the skips in one transaction, and start the requests."""
        ready, skipped = [], []
        for current, request in zip(claims, self.kind.prepare(claims), strict=True):  # reads: no write lock held
            (skipped if isinstance(request, Skip) else ready).append((current, request))
        if skipped:
            with transaction.atomic():
                for current, skip in skipped:
                    self.counts[_apply_skip(self.kind, current, skip)] += 1
                    self.settled.append(current.batch_id)
        for current, request in ready:
            if self.pool is None:  # in this thread
                future: Future = Future()
                future.set_result(call(self.kind, request))
            else:
                future = self.pool.submit(call, self.kind, request)
            self.flying[future] = (current, request)

    def collect(self, timeout: float | None = None, linger: float = 0.0) -> int:
        """Wait up to ``timeout`` for an answer (None: until one comes), and ``linger`` more
        for others (fewer, larger transactions), then record every answer in; returns how many."""
        if not self.flying:
            return 0
        done, _pending = wait(list(self.flying), timeout=timeout, return_when=FIRST_COMPLETED)
        if done and linger and len(done) < len(self.flying):
            done, _pending = wait(list(self.flying), timeout=linger, return_when=ALL_COMPLETED)
        answered = [(*self.flying.pop(future), future.result()) for future in done]
        group: list = []
        weight = 0
        for item in answered:
            if group and weight + self.kind.weight(item[1]) > self.RECORD_WEIGHT:
                self._record(group)
                group, weight = [], 0
            group.append(item)
            weight += self.kind.weight(item[1])
        if group:
            self._record(group)
        return len(answered)

    def _record(self, group: list) -> None:
        for (current, _request, _answer), state in zip(group, record_many(self.kind, group), strict=True):
            self.counts[state] += 1
            if state in (S.SENT, S.FAILED):
                self.settled.append(current.batch_id)

    def drain(self) -> None:
        while self.flying:
            self.collect()

    def finish(self) -> None:
        """Close the parents of the batches settled so far (the kind decides)."""
        settled, self.settled = self.settled, []
        finish(self.kind, settled)


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
