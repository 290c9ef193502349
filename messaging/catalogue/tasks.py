"""Celery tasks of the catalogue: thin (ids in, one service call). Each keeps the name it had
before messaging was split into apps (beat rows and routes refer to it)."""

from celery import shared_task

from bics.errors import BicsRateLimited, BicsServerError, BicsTransportError

TRANSIENT = (BicsServerError, BicsTransportError, BicsRateLimited)


@shared_task(name="messaging.tasks.pull_statuses", soft_time_limit=600, time_limit=660)
def pull_statuses() -> dict:  # failures are per resource in the result; the next beat retries
    """Beat: keep sender and template statuses current."""
    from core import sync

    return {name: sync.pull(name).counts() for name in ("senders", "templates")}


@shared_task(name="messaging.tasks.pull_pricing", soft_time_limit=600, time_limit=660,
             autoretry_for=TRANSIENT, retry_backoff=True, retry_jitter=True, max_retries=3)
def pull_pricing() -> dict:
    from messaging.catalogue.services.pricing import balance_pull, pricing_pull

    seen = pricing_pull()
    balance = balance_pull()
    return {"prices": seen, "balance": str(balance) if balance else None}


@shared_task(name="messaging.tasks.unsubscriber_remove", acks_late=True, soft_time_limit=60, time_limit=90)
def unsubscriber_remove(unsubscriber_id: int) -> str:
    """START after a keyword opt-out: delete it at BICS, then here."""
    from messaging.catalogue.services.keywords import keyword_optout_remove

    return keyword_optout_remove(unsubscriber_id=unsubscriber_id)
