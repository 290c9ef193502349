"""The batch engine (core.batches), once per kind: claims, sends, the sweeper and the
reconciliation keep every recipient called or messaged exactly once, against the BICS
sandbox over HTTP. Claims race in real threads (own connections); on PostgreSQL
(``test_engine_on_postgresql`` reruns this module there) that exercises SKIP LOCKED."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from bics.errors import (
    BicsAuthError,
    BicsOutcomeUnknown,
    BicsRateLimited,
    BicsServerError,
    BicsTransportError,
    BicsValidationError,
)
from core import batches as engine
from core.batches import BatchState, Outcome, outcome_of
from tests import sandbox_helpers as sb
from tests.batch_kinds import HARNESSES
from tests.concurrency import on_postgresql, race, run_on_postgresql

S = BatchState


@pytest.fixture(params=sorted(HARNESSES))
def harness(request):
    return HARNESSES[request.param]()


def after_timeout(kind):
    return timezone.now() + kind.claim_timeout() + timedelta(seconds=1)


def after_grace(kind):
    return timezone.now() + kind.claim_timeout() + kind.reconcile_grace() + timedelta(seconds=2)


def assert_each_once(harness, sandbox, parent):
    placed = harness.placed(sandbox)
    assert {n: placed[n] for n in harness.numbers(parent)} == {n: 1 for n in harness.numbers(parent)}


def assert_all_sent(harness, sandbox, parent):
    """Every recipient accepted by BICS once, and the parent closed."""
    assert harness.member_states(parent) == {harness.sent_member_state}
    assert harness.finished(parent)
    assert_each_once(harness, sandbox, parent)


# --------------------------------------------------------------------------- the error map
@pytest.mark.parametrize(("exc", "outcome"), [
    (BicsOutcomeUnknown("op"), Outcome.UNKNOWN),
    (BicsRateLimited("op", 429), Outcome.RETRY),
    (BicsTransportError("op"), Outcome.RETRY),
    (BicsServerError("op", 503), Outcome.RETRY),
    (BicsServerError("op", 502), Outcome.UNKNOWN),
    (BicsValidationError("op", 422), Outcome.FAILED),
    (BicsAuthError("op", 401), Outcome.FAILED),
])
def test_bics_errors_map_to_one_outcome_each(exc, outcome):
    assert outcome_of(exc) is outcome


# --------------------------------------------------------------------------- claims
@pytest.mark.django_db
def test_a_batch_is_claimed_by_one_worker_only(harness, bics_sandbox):
    parent = harness.make(batches=1)
    batch = harness.batches(parent).get()
    first = engine.claim(harness.kind, batch.pk)
    assert first is not None and engine.claim(harness.kind, batch.pk) is None
    batch.refresh_from_db()
    assert (batch.state, batch.attempts, batch.claim_token) == (S.CLAIMED, 1, first.token) and batch.claimed_by
    assert engine.send(harness.kind, batch.pk) is None
    assert engine.send(harness.kind, batch.pk, token=uuid.uuid4()) is None
    assert harness.placed(bics_sandbox) == {}


@pytest.mark.django_db
def test_claim_next_takes_pending_batches_in_order_once(harness):
    parent = harness.make(batches=3)
    ids = list(harness.batches(parent).values_list("pk", flat=True))
    first = engine.claim_next(harness.kind, harness.batches(parent), limit=2)
    assert [c.batch_id for c in first] == ids[:2] and first[0].token == first[1].token
    assert [c.batch_id for c in engine.claim_next(harness.kind, harness.batches(parent), limit=5)] == ids[2:]
    assert engine.claim_next(harness.kind, harness.batches(parent)) == []


# --------------------------------------------------------------------------- sending
@pytest.mark.django_db
def test_sent_batches_record_the_answer_and_close_the_parent(harness, bics_sandbox):
    parent = harness.make(batches=2, size=2)
    for batch in harness.batches(parent):
        assert engine.send(harness.kind, batch.pk) == S.SENT
    assert all(b.group_id and b.sent_at and b.claim_token is not None for b in harness.batches(parent))
    assert_all_sent(harness, bics_sandbox, parent)


@pytest.mark.django_db
def test_send_many_sends_each_claimed_batch_once_from_a_pool(harness, bics_sandbox):
    parent = harness.make(batches=6)
    claims = engine.claim_next(harness.kind, harness.batches(parent), limit=6)
    assert engine.send_many(harness.kind, claims, workers=4) == {S.SENT: 6}
    assert harness.finished(parent)
    assert_each_once(harness, bics_sandbox, parent)


@pytest.mark.django_db
def test_the_pipeline_keeps_the_requests_in_flight_and_records_answers_in_bounded_groups(
        harness, bics_sandbox, monkeypatch):
    """Eight slow requests from a pool of eight take about one request's time, not eight; the
    answers are written in groups of at most ``RECORD_WEIGHT`` members, each its own transaction."""
    import time

    from core.batches import engine as kernel

    parent = harness.make(batches=8)
    sb.fault(bics_sandbox, kind="latency", seconds=0.5, rate=1.0, routes=[harness.route])
    groups = []
    original = kernel.record_many

    def counted(kind, answered):
        groups.append(len(answered))
        return original(kind, answered)

    monkeypatch.setattr(kernel, "record_many", counted)
    monkeypatch.setattr(kernel.Pipeline, "RECORD_WEIGHT", 3)
    claims = engine.claim_next(harness.kind, harness.batches(parent), limit=8)
    started = time.monotonic()
    with engine.Senders(harness.kind, 8) as senders:
        pipe = engine.Pipeline(harness.kind, senders)
        pipe.submit(claims)
        assert pipe.in_flight == 8
        while pipe.in_flight:
            pipe.collect(timeout=5, linger=0.2)
    pipe.finish()
    assert time.monotonic() - started < 2.5  # noqa: PLR2004 - eight in a row would take 4 s
    assert pipe.counts == {S.SENT: 8} and sum(groups) == 8 and max(groups) <= 3  # noqa: PLR2004
    assert harness.finished(parent)
    assert_each_once(harness, bics_sandbox, parent)


@pytest.mark.django_db
def test_a_refused_batch_fails_with_its_recipients(harness, bics_sandbox):
    parent = harness.make(batches=1, size=3)
    sb.refuse(bics_sandbox, harness.route, 422)
    assert engine.send(harness.kind, harness.batches(parent).get().pk) == S.FAILED
    assert harness.member_states(parent) == {harness.failed_member_state}
    assert harness.finished(parent)


@pytest.mark.django_db
def test_an_unavailable_bics_gives_the_batch_back_unsent(harness, bics_sandbox):
    parent = harness.make(batches=1, size=2)
    batch = harness.batches(parent).get()
    sb.refuse(bics_sandbox, harness.route, 503)  # the client's own retries meet it too
    assert engine.send(harness.kind, batch.pk) == S.PENDING
    batch.refresh_from_db()
    assert batch.claim_token is None and "503" in batch.error
    assert harness.placed(bics_sandbox) == {}
    sb.configure(bics_sandbox, faults=[])
    assert engine.send(harness.kind, batch.pk) == S.SENT
    assert_each_once(harness, bics_sandbox, parent)


# --------------------------------------------------------------------------- recovery
@pytest.mark.django_db
def test_a_lost_answer_is_reconciled_never_resent(harness, bics_sandbox):
    parent = harness.make(batches=1, size=3)
    batch = harness.batches(parent).get()
    sb.drop_answer(bics_sandbox, harness.route)
    assert engine.send(harness.kind, batch.pk) == S.UNKNOWN
    assert engine.send(harness.kind, batch.pk) is None  # not pending: nobody sends it again
    assert engine.reconcile(harness.kind, batch.pk) == S.SENT  # BICS lists all of it already
    assert_all_sent(harness, bics_sandbox, parent)


@pytest.mark.django_db
def test_a_worker_that_died_before_sending_is_sent_after_the_grace_period(harness, bics_sandbox):
    parent = harness.make(batches=1, size=2)
    batch = harness.batches(parent).get()
    assert engine.claim(harness.kind, batch.pk)  # ... and the worker dies here
    assert engine.sweep(harness.kind)["stale"] == 0  # the claim may still be alive
    assert engine.sweep(harness.kind, now=after_timeout(harness.kind))["stale"] == 1
    batch.refresh_from_db()
    assert batch.state == S.UNKNOWN and batch.claim_token is None
    assert engine.reconcile(harness.kind, batch.pk) == S.UNKNOWN  # BICS may not list it yet
    assert engine.reconcile(harness.kind, batch.pk, now=after_grace(harness.kind)) == S.PENDING
    assert engine.send(harness.kind, batch.pk) == S.SENT
    batch.refresh_from_db()
    assert batch.attempts == 2
    assert_each_once(harness, bics_sandbox, parent)


@pytest.mark.django_db
def test_a_worker_that_died_after_bics_accepted_is_never_resent(harness, bics_sandbox):
    parent = harness.make(batches=1, size=3)
    batch = harness.batches(parent).get()
    claim = engine.claim(harness.kind, batch.pk)
    harness.send_part(claim, 3)  # sent, then the worker died
    engine.sweep(harness.kind, now=after_timeout(harness.kind))
    assert engine.reconcile(harness.kind, batch.pk, now=after_grace(harness.kind)) == S.SENT
    assert_all_sent(harness, bics_sandbox, parent)


@pytest.mark.django_db
def test_a_worker_that_died_half_way_sends_only_the_unknown_recipients_again(harness, bics_sandbox):
    parent = harness.make(batches=1, size=4)
    batch = harness.batches(parent).get()
    harness.send_part(engine.claim(harness.kind, batch.pk), 2)
    engine.sweep(harness.kind, now=after_timeout(harness.kind))
    assert engine.reconcile(harness.kind, batch.pk) == S.UNKNOWN  # half found: wait for the grace
    assert engine.reconcile(harness.kind, batch.pk, now=after_grace(harness.kind)) == S.SENT
    extra = harness.batches(parent).exclude(pk=batch.pk).get()
    assert extra.state == S.PENDING
    assert engine.send(harness.kind, extra.pk) == S.SENT
    assert harness.finished(parent)
    assert_each_once(harness, bics_sandbox, parent)


@pytest.mark.django_db
def test_a_late_answer_after_the_sweep_still_counts_as_sent(harness, bics_sandbox):
    parent = harness.make(batches=1, size=2)
    batch = harness.batches(parent).get()
    claim = engine.claim(harness.kind, batch.pk)
    (request,) = harness.kind.prepare([claim])
    engine.sweep(harness.kind, now=after_timeout(harness.kind))  # the worker looked dead ...
    answer = engine.engine.call(harness.kind, request)  # ... but its request went out
    assert engine.engine.record(harness.kind, claim, request, answer) == S.SENT
    batch.refresh_from_db()
    assert batch.state == S.SENT and batch.group_id
    assert engine.reconcile(harness.kind, batch.pk) == S.SENT
    assert_each_once(harness, bics_sandbox, parent)


# --------------------------------------------------------------------------- real concurrency
@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_batches_claim_each_once(harness):
    parent = harness.make(batches=30)

    def worker():
        mine = []
        while claims := engine.claim_next(harness.kind, harness.batches(parent), limit=2):
            mine.extend(c.batch_id for c in claims)
        return mine

    claimed = race(worker)
    assert sorted(claimed) == sorted(harness.batches(parent).values_list("pk", flat=True))
    assert set(harness.batches(parent).values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_batch_only_one_wins(harness):
    batch = harness.batches(harness.make(batches=1)).get()
    assert len(race(lambda: [c for c in [engine.claim(harness.kind, batch.pk)] if c])) == 1


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db
def test_engine_on_postgresql():
    """This module (and the voice bulk and campaign engine tests) again, on a throwaway
    PostgreSQL cluster."""
    if on_postgresql():
        assert connection.features.has_select_for_update_skip_locked
        return
    run_on_postgresql(["tests/core/test_batches.py", "tests/voice/test_bulk.py",
                       "tests/campaigns/test_engine_sandbox.py", "tests/campaigns/test_lifecycle.py"],
                      name="batches")
