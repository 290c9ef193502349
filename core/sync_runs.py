"""Sync runs: what the admin's push/pull actions start (core.sync does the work), run by the
``run_sync`` task; the run's row is its progress and outcome on the admin page."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import sync
from core.models import SyncRun

STALE_AFTER_SECONDS = 1900  # the task's hard time limit: an older unfinished run is dead


def selection_key(ids: list[int] | None) -> str:
    """The same set of ids (in any order) gives the same key; no ids: the whole list."""
    if not ids:
        return ""
    return hashlib.sha256(",".join(str(i) for i in sorted({int(i) for i in ids})).encode()).hexdigest()


def _join_or_create_push(*, resource: str, selection: str, user) -> tuple[SyncRun, bool]:
    """The push in flight for exactly this selection, or a new one. The unique constraint on
    busy pushes makes the check-then-insert atomic: of two racing requests one inserts, the
    other joins it."""
    busy = (SyncRun.State.QUEUED, SyncRun.State.RUNNING)
    for _attempt in range(3):
        current = SyncRun.objects.filter(resource=resource, direction="push", selection=selection,
                                         state__in=busy).first()
        if current is not None:
            if current.created_at >= timezone.now() - timedelta(seconds=STALE_AFTER_SECONDS):
                return current, False
            SyncRun.objects.filter(pk=current.pk, state__in=busy).update(  # a dead worker's run frees the slot
                state=SyncRun.State.FAILED, finished_at=timezone.now(), summary="abandoned: no worker finished it")
        try:
            with transaction.atomic():
                return SyncRun.objects.create(resource=resource, direction="push", selection=selection,
                                              requested_by=user), True
        except IntegrityError:
            continue  # another request inserted it meanwhile: join that one
    raise RuntimeError(f"could not start or join a push of {resource}")


def sync_run_start(*, resource: str, direction: str, user=None, ids: list[int] | None = None,
                   model_label: str = "") -> SyncRun:
    """Record a run and queue it. With eager Celery (tests) the run is finished on return.

    Two pushes of the same records at once could create them twice at BICS, so a push joins
    the one in flight for exactly the same ids; any other selection is a run of its own (never
    dropped into a run that does not hold it)."""
    if resource != "all":
        sync.adapters_for(resource)  # an unknown resource fails here, not in the worker
    if direction == "push":
        run, created = _join_or_create_push(resource=resource, selection=selection_key(ids), user=user)
        if not created:
            return run
    else:
        run = SyncRun.objects.create(resource=resource, direction=direction, requested_by=user)
    run_sync.delay(run.pk, ids or None, model_label)
    run.refresh_from_db()
    return run


def sync_run_execute(*, run: SyncRun, ids: list[int] | None = None, model_label: str = "") -> SyncRun:
    run.state = SyncRun.State.RUNNING
    run.save(update_fields=["state"])
    try:
        with sync.acting_as(run.requested_by):
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
