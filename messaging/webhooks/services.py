"""Webhooks: store what BICS pushes, process it once.

* ``webhook_event_receive`` stores an event (unique dedupe key: a BICS retry is stored once)
  and queues the ``process_webhook_event`` task after commit. The receiver answers
  200 right after it (BICS gives up after 3 s).
* ``webhook_event_process`` applies a stored event once: the event row is locked and marked
  processed in the same transaction as the processor's writes. A failure leaves it
  ``failed`` with its error; ``webhook_events_reprocess`` (admin "Process again") retries.

Connecting this back-office to BICS (``webhook_connect``) is ``messaging.webhooks.connect``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.webhooks.models import Webhook, WebhookEvent

log = logging.getLogger(__name__)
E = WebhookEvent.State


# --------------------------------------------------------------------------- receive
def _enqueue(event_id: int) -> None:
    from messaging.webhooks.tasks import process_webhook_event

    try:
        process_webhook_event.delay(event_id)
    except Exception as exc:  # broker down: the beat sweeper picks the event up
        log.warning("webhook event %s not queued (%s); the sweeper will process it", event_id, type(exc).__name__)


_sqlite_writes = threading.Lock()


def _write_lock():
    """SQLite has one writer: threads of one server process queue on a lock here instead of
    in SQLite's busy handler, whose sleeps (up to 100 ms) made the answer time's tail."""
    from django.db import connection

    return _sqlite_writes if connection.vendor == "sqlite" else contextlib.nullcontext()


def webhook_event_receive(*, webhook: Webhook | None, event) -> WebhookEvent | None:
    """Store one normalised ``BicsEvent``; None when it was already stored (a retry)."""
    row = WebhookEvent(webhook=webhook, received_at=timezone.now(), event_type=event.event_type,
                       method=event.method, payload=event.payload, raw=event.raw, dedupe_key=event.dedupe_key)
    try:
        with _write_lock(), transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _enqueue(row.pk))
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


def webhook_events_sweep(*, older_than: timedelta | None = None, limit: int = 5000) -> int:
    """Beat: queue events still ``received`` after a while (a lost task or a broker outage)."""
    age = older_than or timedelta(seconds=getattr(settings, "BICS_WEBHOOK_SWEEP_AFTER", 300))
    ids = list(WebhookEvent.objects.filter(state=E.RECEIVED, received_at__lt=timezone.now() - age)
               .order_by("received_at").values_list("pk", flat=True)[:limit])
    for event_id in ids:
        _enqueue(event_id)
    return len(ids)
