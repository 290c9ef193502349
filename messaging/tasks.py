"""Celery tasks: thin (ids in, one service call)."""

from celery import shared_task

from bics.errors import BicsRateLimited, BicsServerError, BicsTransportError
from messaging.models import SyncRun

TRANSIENT = (BicsServerError, BicsTransportError, BicsRateLimited)


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def run_sync(run_id: int, ids: list[int] | None = None, model_label: str = "") -> dict:
    from messaging.services.sync import sync_run_execute

    run = sync_run_execute(run=SyncRun.objects.get(pk=run_id), ids=ids, model_label=model_label)
    return {"state": run.state, "counts": run.counts}


@shared_task(soft_time_limit=600, time_limit=660)
def pull_statuses() -> dict:  # failures are per resource in the result; the next beat retries
    """Beat: keep sender and template statuses current."""
    from core import sync

    return {name: sync.pull(name).counts() for name in ("senders", "templates")}


@shared_task(soft_time_limit=600, time_limit=660,
             autoretry_for=TRANSIENT, retry_backoff=True, retry_jitter=True, max_retries=3)
def pull_pricing() -> dict:
    from messaging.services.pricing import balance_pull, pricing_pull

    seen = pricing_pull()
    balance = balance_pull()
    return {"prices": seen, "balance": str(balance) if balance else None}


from messaging.tasks_campaigns import *  # noqa: E402,F401,F403
from messaging.tasks_webhooks import *  # noqa: E402,F401,F403
