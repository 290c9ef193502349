"""Celery tasks of the webhooks app. Each keeps the name it had before messaging was split
into apps (beat rows and routes refer to it).

Thin: ids in, one service call. ``process_webhook_event`` is routed to the ``webhooks``
queue (config/celery.py)."""

from celery import shared_task
from django.db import OperationalError


@shared_task(name="messaging.tasks.process_webhook_event", acks_late=True, soft_time_limit=60, time_limit=90,
             autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def process_webhook_event(event_id: int) -> str:
    """Apply one stored event (idempotent: a processed event is left alone). A processing
    error leaves the event ``failed`` for the admin's "Process again"; it is not retried
    blindly, except for a locked database."""
    from messaging.webhooks.services import webhook_event_process

    try:
        return webhook_event_process(event_id=event_id)
    except OperationalError:
        raise
    except Exception:  # recorded on the event
        return "failed"


@shared_task(name="messaging.tasks.sweep_webhook_events", soft_time_limit=120, time_limit=150)
def sweep_webhook_events() -> int:
    """Beat: drain stored events that nothing applied yet."""
    from messaging.webhooks.services import webhook_events_sweep

    return webhook_events_sweep()


@shared_task(name="messaging.tasks.drain_webhook_events", acks_late=True, soft_time_limit=60, time_limit=90,
             autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def drain_webhook_events() -> int:
    """Apply stored events in sets for up to 20 s, then queue itself again while events
    remain (idempotent: each set is marked in the transaction of its effects)."""
    from celery import current_app

    from messaging.webhooks.ingest import drain

    applied, more = drain(budget_seconds=20.0)
    if more and not current_app.conf.task_always_eager:
        drain_webhook_events.delay()
    return applied
