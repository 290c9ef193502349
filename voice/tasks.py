"""Thin Celery tasks: primitive ids in, one service call each."""

from datetime import date

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def send_bulk_batch(batch_id: int) -> str:
    """Claim and send one bulk call batch (a no-op if another worker has it)."""
    from voice.services.bulk_batches import batch_send

    state = batch_send(batch_id)
    return state.value if state is not None else "not claimed"


@shared_task(soft_time_limit=240, time_limit=300)
def launch_bulk_call(bulk_call_id: int) -> int:
    from voice.models import BulkCall
    from voice.services.bulk import bulk_call_launch

    return bulk_call_launch(BulkCall.objects.get(pk=bulk_call_id)).recipients_count


@shared_task(soft_time_limit=50, time_limit=60)
def sweep_bulk_calls() -> dict:
    """Dead claims -> unknown -> reconciled by Call Status; lost batches re-queued."""
    from voice.services.bulk_batches import bulk_sweep

    return bulk_sweep()


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def send_call(call_id: int) -> str:
    from voice.models import Call
    from voice.services.calls import call_send

    return call_send(Call.objects.get(pk=call_id)).state


@shared_task(soft_time_limit=600, time_limit=660)
def pull_call_reports(start: str | None = None, end: str | None = None) -> dict:
    """Call logs and recordings for [start, end] (ISO dates; default yesterday and today)."""
    from voice.services.reports import call_logs_pull, recordings_pull

    kwargs = {"start": date.fromisoformat(start) if start else None,
              "end": date.fromisoformat(end) if end else None}
    return {"logs": call_logs_pull(**kwargs), "recordings": recordings_pull(**kwargs)}


@shared_task(soft_time_limit=300, time_limit=360)
def pull_voice_pricing() -> int:
    from voice.services.pricing import pricing_pull

    return pricing_pull()


@shared_task(soft_time_limit=600, time_limit=660)
def sync_voice_unsubscribers(direction: str = "pull") -> dict:
    from voice.services.unsubscribers import unsubscribers_pull, unsubscribers_push

    result = unsubscribers_pull() if direction == "pull" else unsubscribers_push()
    return result.as_dict()


@shared_task(soft_time_limit=240, time_limit=300)
def refresh_bulk_statuses() -> int:
    """Per-recipient call statuses of recent bulk calls, through Call Status."""
    from voice.services.bulk import bulk_refresh_recent

    return bulk_refresh_recent()
