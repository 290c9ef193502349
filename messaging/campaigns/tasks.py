"""Celery tasks of the campaigns app. Each keeps the name it had before messaging was split
into apps (beat rows and routes refer to it).

Thin: ids in, one service call. Exactly-once is the engine's business (claims, sweeper,
reconciliation), so a task that runs twice does no harm. ``send_batch`` goes to the
``sends`` queue (config/celery.py).
"""

from celery import shared_task


@shared_task(name="messaging.tasks.send_batch", acks_late=True, soft_time_limit=120, time_limit=150)
def send_batch(batch_id: int, token: str | None = None) -> str:
    """Send one batch (claimed by the dispatcher, which passes the token; a one-off message
    given back claims its own), then let the campaign go on (the next batch, or a countdown
    for the interval). Returns the batch's new state, or "not-claimed" when it is not ours."""
    import uuid

    from messaging.campaigns.models import SendBatch
    from messaging.campaigns.services import engine

    state = engine.batch_send(batch_id, token=uuid.UUID(token) if token else None)
    campaign_id = SendBatch.objects.filter(pk=batch_id).values_list("campaign_id", flat=True).first()
    if campaign_id:
        _advance(campaign_id)
    return str(state) if state is not None else "not-claimed"


def _advance(campaign_id: int) -> None:
    from celery import current_app

    from messaging.campaigns.services import dispatch, engine

    eager = current_app.conf.task_always_eager
    while True:
        step = dispatch.campaign_step(campaign_id)
        if eager:  # tests and eager set-ups: send here, in a loop (no recursion, no countdowns)
            if step.claims:
                engine.batches_send(step.claims)
                continue
            return
        for claim in step.claims:
            send_batch.delay(claim.batch_id, str(claim.token))
        if step.wait and step.reason.timed:
            campaign_advance.apply_async((campaign_id,), countdown=max(1, int(step.wait)))
        return


@shared_task(name="messaging.tasks.campaign_advance", acks_late=True, soft_time_limit=120, time_limit=150)
def campaign_advance(campaign_id: int) -> None:
    """Dispatch what a campaign may send now (bounded in-flight batches)."""
    _advance(campaign_id)


@shared_task(name="messaging.tasks.campaigns_tick", soft_time_limit=240, time_limit=280)
def campaigns_tick() -> dict:
    """Beat, every minute: launch due scheduled campaigns, sweep stale claims, reconcile
    unknown batches, and nudge every active campaign (the safety net of the countdowns)."""
    from messaging.campaigns.services import dispatch

    counts = dispatch.campaigns_tick(advance=_advance)
    counts["resumed"] = _resume_preparations()
    return counts


def _resume_preparations() -> int:
    from messaging.campaigns.services.writer import stale_preparations

    stale = stale_preparations()
    for campaign_id in stale:
        campaign_prepare.delay(campaign_id)
    return len(stale)


@shared_task(name="messaging.tasks.campaign_prepare", acks_late=True, soft_time_limit=3600, time_limit=3700)
def campaign_prepare(campaign_id: int) -> int:
    """Finish writing a launch's audience from where it stopped (chunks; safe to run twice)."""
    from messaging.campaigns.services.campaigns import campaign_prepare_resume

    return campaign_prepare_resume(campaign_id)


@shared_task(name="messaging.tasks.poll_dlrs", soft_time_limit=240, time_limit=280)
def poll_dlrs() -> dict:
    from messaging.campaigns.services.dlr import dlr_poll

    return dlr_poll()


@shared_task(name="messaging.tasks.pull_smart_link_visits", soft_time_limit=600, time_limit=660)
def pull_smart_link_visits() -> dict:
    from messaging.campaigns.services.smart_links import smart_links_visits_pull

    return smart_links_visits_pull()


@shared_task(name="messaging.tasks.drain_link_clicks", soft_time_limit=240, time_limit=280)
def drain_link_clicks() -> int:
    """Tracked short links: the clicks the redirect appended to Redis, written to the database."""
    from messaging.campaigns.services.short_links import link_clicks_drain

    return link_clicks_drain()
