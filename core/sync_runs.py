"""Sync runs: what the admin's push/pull actions start (core.sync does the work), run by the
``run_sync`` task; the run's row is its progress and outcome on the admin page."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core import sync
from core.models import SyncRun

STALE_AFTER_SECONDS = 1900  # the task's hard time limit: an older unfinished run is dead


def sync_run_start(*, resource: str, direction: str, user=None, ids: list[int] | None = None,
                   model_label: str = "") -> SyncRun:
    """Record a run and queue it. With eager Celery (tests) the run is finished on return."""
    if resource != "all":
        sync.adapters_for(resource)  # an unknown resource fails here, not in the worker
    if direction == "push":
        # Two pushes of one list at once could create records twice: join the one in flight.
        busy = SyncRun.objects.filter(
            resource=resource, direction="push", state__in=(SyncRun.State.QUEUED, SyncRun.State.RUNNING),
            created_at__gte=timezone.now() - timedelta(seconds=STALE_AFTER_SECONDS)).first()
        if busy is not None:
            return busy
    run = SyncRun.objects.create(resource=resource, direction=direction, requested_by=user)
    run_sync.delay(run.pk, ids or None, model_label)
    run.refresh_from_db()
    return run


def sync_run_execute(*, run: SyncRun, ids: list[int] | None = None, model_label: str = "") -> SyncRun:
    run.state = SyncRun.State.RUNNING
    run.save(update_fields=["state"])
    try:
        if ids and run.direction == "push":
            from django.apps import apps

            model = apps.get_model(model_label)
            result = sync.push(run.resource, model._default_manager.filter(pk__in=ids))
        else:
            result = sync.run(run.resource, run.direction)
    except Exception as exc:
        run.state, run.summary, run.finished_at = SyncRun.State.FAILED, f"{type(exc).__name__}: {exc}", timezone.now()
        run.save(update_fields=["state", "summary", "finished_at"])
        raise
    data = result.as_dict()
    run.counts, run.summary = data["counts"], data["summary"]
    run.failures = data["failed"] + [[label, f"conflict: {reason}"] for label, reason in data["conflicts"]]
    run.state = SyncRun.State.DONE if result.ok else SyncRun.State.FAILED
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "summary", "failures", "state", "finished_at"])
    return run


# The task name it had in messaging: queued messages and routes refer to it.
@shared_task(name="messaging.tasks.run_sync", acks_late=True, soft_time_limit=1800, time_limit=1900)
def run_sync(run_id: int, ids: list[int] | None = None, model_label: str = "") -> dict:
    run = sync_run_execute(run=SyncRun.objects.get(pk=run_id), ids=ids, model_label=model_label)
    return {"state": run.state, "counts": run.counts}
