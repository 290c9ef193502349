"""The functions of the batch engine: claim, claim next, send, send many, sweep, reconcile,
finish. Each takes the ``BatchKind`` first."""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections import Counter
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
    those a reconciliation recorded first (already sent). The batches not yet sent are read
    under lock (the ids read are the ids moved); the kind records their members in sets; the
    state and the kind's extra fields move in one UPDATE per 500 batches."""
    table = connection.ops.quote_name(kind.model._meta.db_table)
    key = connection.ops.quote_name(kind.model._meta.pk.column)
    ids = sorted({claim.batch_id for claim, _request, _answer in accepted})
    state = connection.ops.quote_name(kind.model._meta.get_field("state").column)
    # locked until the transaction ends, waiting for another holder (PostgreSQL); SQLite's
    # write lock, taken when the transaction began (IMMEDIATE), already covers them
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    moved: set[int] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            cursor.execute(f"SELECT {key} FROM {table} WHERE {key} IN ({', '.join(['%s'] * len(part))}) "  # noqa: S608
                           f"AND {state} <> %s{lock}", [*part, S.SENT.value])
            moved.update(row[0] for row in cursor.fetchall())
    if not moved:
        return
    extras = kind.on_sent_many([(c, r, a.result) for c, r, a in accepted if c.batch_id in moved])
    by_fields: dict[tuple, list] = {}
    for batch_id in moved:
        extra = extras.get(batch_id) or {}
        fields = tuple(sorted(extra))
        by_fields.setdefault(fields, []).append((batch_id, *(extra[f] for f in fields)))
    sent = {"state": S.SENT.value, "sent_at": timezone.now(), "error": ""}
    for fields, rows in by_fields.items():
        _update_from_values(kind.model, fields, rows, same=sent)


def _update_from_values(model, fields: tuple[str, ...], rows: list[tuple], same: dict | None = None) -> None:
    """``UPDATE … SET f = v.columnN FROM (VALUES (pk, value…), …)``: each row its own values
    (and ``same``: field -> the value of every row), one statement per 500 rows (SQLite ≥ 3.33
    and PostgreSQL name VALUES columns column1…)."""
    table = connection.ops.quote_name(model._meta.db_table)
    key = connection.ops.quote_name(model._meta.pk.column)
    columns = [model._meta.get_field(name) for name in fields]
    constants = [(model._meta.get_field(name), value) for name, value in (same or {}).items()]
    sets = ", ".join([f"{connection.ops.quote_name(f.column)} = v.column{i + 2}" for i, f in enumerate(columns)]
                     + [f"{connection.ops.quote_name(f.column)} = %s" for f, _value in constants])
    fixed = [f.get_db_prep_save(value, connection) for f, value in constants]
    width = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    for start in range(0, len(rows), 500):
        part = rows[start:start + 500]
        params = [*fixed, *(value for row in part for value in
                            (row[0], *(f.get_db_prep_save(v, connection) for f, v in zip(columns, row[1:], strict=True))))]
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([width] * len(part))}) AS v "  # noqa: S608
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


def send_many(kind: BatchKind, claims: list[Claim], *, workers: int = 8, pool: Senders | None = None) -> Counter:
    """Send claimed batches: preparation and recording in this thread, the requests by
    sender threads (``pool``, or ``workers`` of them for this call; a single request, or
    ``workers`` 1, is sent in this thread). Counts by the batches' new state."""
    own = None
    if pool is None and workers > 1 and len(claims) > 1:
        own = pool = Senders(kind, min(workers, len(claims)))
    try:
        pipe = Pipeline(kind, pool)
        pipe.submit(claims)
        pipe.drain()
    finally:
        if own is not None:
            own.close()
    pipe.finish()
    return pipe.counts


class Senders:
    """``workers`` threads sending a kind's requests (``call``), each answer handed back on a
    queue with what was sent. Lighter than an executor's futures, which cost a lock and a
    condition per request and a wait that takes the lock of every one in flight: with
    hundreds of one-recipient requests in flight that was a fifth of the interpreter time of
    the thread recording the answers."""

    def __init__(self, kind: BatchKind, workers: int):
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.threads = [threading.Thread(target=self._work, args=(kind,), name=f"batch-sender-{i}", daemon=True)
                        for i in range(max(1, workers))]
        for thread in self.threads:
            thread.start()

    def _work(self, kind: BatchKind) -> None:
        while (item := self.inbox.get()) is not None:
            try:
                answer: Answer | BaseException = call(kind, item[1])
            except BaseException as exc:  # noqa: BLE001 - handed to the recording thread, raised there
                answer = exc
            self.outbox.put((*item, answer))

    def close(self) -> None:
        for _thread in self.threads:
            self.inbox.put(None)
        for thread in self.threads:
            thread.join()

    def __enter__(self) -> Senders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Pipeline:
    """Batches in flight: the requests go to sender threads while this thread prepares the
    next claims and records the answers that came back, so the senders need not wait for the
    database (and the database for the slowest request). Answers are recorded in groups
    (``record_many``) of at most ``RECORD_WEIGHT`` members (``kind.weight``), each group its
    own short transaction. Only this thread touches the database."""

    RECORD_WEIGHT = 1000

    def __init__(self, kind: BatchKind, senders: Senders | None):
        self.kind, self.senders = kind, senders
        self.answers: queue.SimpleQueue = senders.outbox if senders is not None else queue.SimpleQueue()
        self.flying = 0
        self.counts: Counter = Counter()
        self.settled: list[int] = []  # batch ids whose parent may be finished

    @property
    def in_flight(self) -> int:
        return self.flying

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
            if self.senders is None:  # in this thread
                self.answers.put((current, request, call(self.kind, request)))
            else:
                self.senders.inbox.put((current, request))
        self.flying += len(ready)

    def _take(self, timeout: float | None, linger: float) -> list[tuple[Claim, Any, Answer]]:
        """The answers come back so far: waiting up to ``timeout`` for the first (None: until
        it comes) and ``linger`` more for the others, unless every one is back sooner."""
        answered = []
        try:
            answered.append(self.answers.get(timeout=timeout) if timeout != 0 else self.answers.get_nowait())
            deadline = time.monotonic() + linger
            while len(answered) < self.flying:
                left = deadline - time.monotonic()
                answered.append(self.answers.get(timeout=left) if left > 0 else self.answers.get_nowait())
        except queue.Empty:
            pass
        self.flying -= len(answered)
        for _claim, _request, answer in answered:
            if isinstance(answer, BaseException):  # not a BICS error: a defect, raised here
                raise answer
        return answered

    def collect(self, timeout: float | None = None, linger: float = 0.0) -> int:
        """Wait up to ``timeout`` for an answer (None: until one comes), and ``linger`` more
        for others (fewer, larger transactions), then record every answer in; returns how many."""
        if not self.flying:
            return 0
        answered = self._take(timeout, linger)
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
