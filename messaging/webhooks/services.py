"""Webhooks: store what BICS pushes, process it once.

* ``webhook_event_receive`` stores an event (one INSERT; unique dedupe key: a BICS retry is
  stored once) and nudges the drain after commit. The receiver answers 200 right after it
  (BICS gives up after 3 s); nothing else happens inside the request.
* ``apply_pending_events`` (``ingest.py``) applies the stored events in sets, each set marked
  in the transaction of its effects; the drain task and the beat run it.
* ``webhook_event_process`` applies one stored event once (the admin's "Process again",
  ``webhook_events_reprocess``): the event row is locked and marked in the same transaction
  as the processor's writes. A failure leaves it ``failed`` with its error.

Connecting this back-office to BICS (``webhook_connect``) is ``messaging.webhooks.connect``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.webhooks.ingest import apply_pending_events  # noqa: F401 - the drain's entry point, named here
from messaging.webhooks.models import Webhook, WebhookEvent

log = logging.getLogger(__name__)
E = WebhookEvent.State


# --------------------------------------------------------------------------- receive
_sqlite_writes = threading.Lock()
_last_kick = 0.0
_kick_lock = threading.Lock()


def _write_lock():
    """SQLite has one writer: threads of one server process queue on a lock here instead of
    in SQLite's busy handler, whose sleeps (up to 100 ms) made the answer time's tail."""
    from django.db import connection

    return _sqlite_writes if connection.vendor == "sqlite" else contextlib.nullcontext()


def kick() -> None:
    """Queue the drain (from the receiver, after its commit): at most every
    ``BICS_WEBHOOK_KICK_SECONDS`` per process; eager set-ups (tests) drain at once. A
    broker that is down loses nothing: the event is stored and the beat drains it."""
    global _last_kick  # noqa: PLW0603 - one timestamp per process
    from celery import current_app

    eager = current_app.conf.task_always_eager
    now = time.monotonic()
    with _kick_lock:
        if not eager and now - _last_kick < float(getattr(settings, "BICS_WEBHOOK_KICK_SECONDS", 0.5)):
            return
        _last_kick = now
    from messaging.webhooks.tasks import drain_webhook_events

    try:
        drain_webhook_events.delay()
    except Exception as exc:  # noqa: BLE001 - broker down: the beat drains the stored events
        log.warning("webhook drain not queued (%s); the beat will drain", type(exc).__name__)


def webhook_event_receive(*, webhook: Webhook | None, event) -> WebhookEvent | None:
    """Store one normalised ``BicsEvent``; None when it was already stored (a retry)."""
    row = WebhookEvent(webhook=webhook, received_at=timezone.now(), event_type=event.event_type,
                       method=event.method, payload=event.payload, raw=event.raw, dedupe_key=event.dedupe_key)
    try:
        with _write_lock(), transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return None
    transaction.on_commit(kick)
    return row


# --------------------------------------------------------------------------- process
def webhook_event_process(*, event_id: int) -> str:
    """Apply one stored event once; returns its state."""
    from messaging.webhooks.registry import processor_for

    try:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().get(pk=event_id)
            if event.state in (E.PROCESSED, E.IGNORED):
                return event.state
            processor = processor_for(event.event_type)
            if processor is None:
                event.state, event.result = E.IGNORED, {"reason": f"no processing for {event.event_type}"}
            else:
                event.result = processor(event) or {}
                event.state = E.PROCESSED
            event.error, event.attempts, event.processed_at = "", event.attempts + 1, timezone.now()
            event.save(update_fields=["state", "result", "error", "attempts", "processed_at"])
            return event.state
    except WebhookEvent.DoesNotExist:
        return "missing"
    except Exception as exc:
        # The error names the exception and its message; payload values stay in the row.
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning("webhook event %s failed: %s", event_id, type(exc).__name__)
        WebhookEvent.objects.filter(pk=event_id).exclude(state=E.PROCESSED).update(
            state=E.FAILED, error=reason, processed_at=timezone.now())
        raise


def webhook_events_reprocess(*, queryset) -> dict[str, int]:
    """Admin "Process again": failed (or still received) events, now, in this process."""
    counts = {"processed": 0, "failed": 0, "skipped": 0}
    for event_id in queryset.filter(state__in=[E.FAILED, E.RECEIVED]).values_list("pk", flat=True):
        WebhookEvent.objects.filter(pk=event_id, state=E.FAILED).update(state=E.RECEIVED)
        try:
            state = webhook_event_process(event_id=event_id)
        except Exception:  # recorded on the event
            counts["failed"] += 1
            continue
        counts["processed" if state in (E.PROCESSED, E.IGNORED) else "skipped"] += 1
    counts["skipped"] += queryset.exclude(state__in=[E.FAILED, E.RECEIVED]).count()
    return counts


def webhook_events_sweep(*, budget_seconds: float = 20.0) -> int:
    """Beat: drain what is stored and not applied (a lost nudge, a broker outage, a worker
    that died); queues the drain again while events remain. Returns how many it applied."""
    from messaging.webhooks.ingest import drain

    applied, more = drain(budget_seconds=budget_seconds)
    if more:
        kick()
    return applied
