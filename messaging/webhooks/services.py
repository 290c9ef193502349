"""Webhooks: store what BICS pushes, process it once.

* ``webhook_event_receive`` stores an event (``append.append_event``: one INSERT … ON CONFLICT
  DO NOTHING on the unique dedupe key, so a BICS retry is stored once; on SQLite into the
  process's inbox file, moved into the table a set at a time, ``inbox``) and nudges the drain
  after commit. The receiver answers 200 right after it (BICS gives up after 3 s); nothing else
  happens inside the request. ``receiver_wsgi`` serves the common case (a JSON POST) with
  the same two calls and without Django's middleware stack.
* ``apply_pending_events`` (``ingest.py``) applies the stored events in sets, each set marked
  in the transaction of its effects; the drain task and the beat run it.
* ``webhook_event_process`` applies one stored event once (the admin's "Process again",
  ``webhook_events_reprocess``): the event row is locked and marked in the same transaction
  as the processor's writes. A failure leaves it ``failed`` with its error.

Connecting this back-office to BICS (``webhook_connect``) is ``messaging.webhooks.connect``.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messaging.webhooks.append import append_event
from messaging.webhooks.ingest import apply_pending_events  # noqa: F401 - the drain's entry point, named here
from messaging.webhooks.models import Webhook, WebhookEvent

log = logging.getLogger(__name__)
E = WebhookEvent.State


# --------------------------------------------------------------------------- receive
_last_kick = 0.0
_last_eager = False  # Celery's task_always_eager when the drain was last queued
_kick_lock = threading.Lock()


def kick() -> None:
    """Queue the drain (from the receiver, after its commit): at most every
    ``BICS_WEBHOOK_KICK_SECONDS`` per process; eager set-ups (tests) drain at once. A
    broker that is down loses nothing: the event is stored and the beat drains it.
    Celery's configuration is read when the drain is queued, not on every call: a lookup
    in it costs as much as the rest of the nudge."""
    global _last_kick, _last_eager  # noqa: PLW0603 - one timestamp per process
    now = time.monotonic()
    window = float(getattr(settings, "BICS_WEBHOOK_KICK_SECONDS", 0.5))
    with _kick_lock:
        if now - _last_kick < window and not _last_eager:
            return
        _last_kick, _last_eager = now, bool(current_app.conf.task_always_eager)
    from messaging.webhooks.tasks import drain_webhook_events

    try:
        drain_webhook_events.delay()
    except Exception as exc:  # noqa: BLE001 - broker down: the beat drains the stored events
        log.warning("webhook drain not queued (%s); the beat will drain", type(exc).__name__)


def webhook_event_receive(*, webhook: Webhook | None, event, raw_json: str | None = None) -> bool:
    """Store one normalised ``BicsEvent`` with one INSERT, committed before the caller answers
    (autocommit, or the caller's transaction); False when it was already stored (a retry: the
    unique dedupe key keeps one row). The drain is nudged after the commit. ``raw_json``: the
    body as received, stored as the event's ``raw``."""
    conn = transaction.get_connection()
    stored = append_event(webhook_id=webhook.pk if webhook else None, event=event, raw_json=raw_json, conn=conn)
    if stored:
        if conn.in_atomic_block:
            transaction.on_commit(kick)
        else:  # autocommit: the row is committed already
            kick()
    return stored


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
