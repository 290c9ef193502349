"""Sync runs: what the admin's push/pull actions start, run by the ``run_sync`` task; the run's
row is its progress and outcome on the admin page (and the dashboard's list of runs).

A run is either a ``core.sync`` resource (its adapters push or pull records) or a *job*: a
pull that is not a list of records (price lists, reports, a count), registered by its app
with ``register_job`` from ``AppConfig.ready()``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import sync
from core.models import SyncRun

log = logging.getLogger(__name__)

# The task's hard time limit: an older unfinished run is dead. Long enough for the largest
# push (new contacts through the bulk import, then the walk of BICS's contact list).
TIME_LIMIT_SECONDS = 4 * 3600
STALE_AFTER_SECONDS = TIME_LIMIT_SECONDS + 60

# (resource, direction) -> job(ids or None) -> {count name: number}
Job = Callable[[list[int] | None], dict[str, int]]
_jobs: dict[tuple[str, str], Job] = {}


def register_job(resource: str, direction: str, job: Job) -> None:
    """Offer `job` as the sync run (`resource`, `direction`); it raises when it fails."""
    _jobs[(resource, direction)] = job


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
    if resource != "all" and (resource, direction) not in _jobs:
        sync.adapters_for(resource)  # an unknown resource fails here, not in the worker
    if direction == "push":
        run, created = _join_or_create_push(resource=resource, selection=selection_key(ids), user=user)
        if not created:
            return run
    else:
        run = SyncRun.objects.create(resource=resource, direction=direction, requested_by=user)
    try:
        run_sync.delay(run.pk, ids or None, model_label)
    except Exception as exc:  # the broker refused it, or (eager Celery) the run failed and says why
        log.warning("sync run %s: %s", run.pk, exc)
        SyncRun.objects.filter(pk=run.pk, state=SyncRun.State.QUEUED).update(
            state=SyncRun.State.FAILED, summary=f"Not queued: {type(exc).__name__}: {exc}", finished_at=timezone.now())
    run.refresh_from_db()
    return run


def _finish(run: SyncRun, state: str, summary: str, **fields) -> None:
    run.state, run.summary, run.finished_at = state, summary, timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=["state", "summary", "finished_at", *fields])


def _run_records(run: SyncRun, ids: list[int] | None, model_label: str) -> None:
    if ids and run.direction == "push":
        from django.apps import apps

        model = apps.get_model(model_label)
        result = sync.push(run.resource, model._default_manager.filter(pk__in=ids))
    else:
        result = sync.run(run.resource, run.direction)
    data = result.as_dict()
    failures = data["failed"] + [[label, f"conflict: {reason}"] for label, reason in data["conflicts"]]
    _finish(run, SyncRun.State.DONE if result.ok else SyncRun.State.FAILED, data["summary"],
            counts=data["counts"], failures=failures)


def _run_job(run: SyncRun, job: Job, ids: list[int] | None) -> None:
    counts = job(ids or None)
    shown = ", ".join(f"{number} {name}" for name, number in counts.items()) or "nothing"
    _finish(run, SyncRun.State.DONE, f"{run.direction.capitalize()} {run.resource}: {shown}.", counts=counts)


def sync_run_execute(*, run: SyncRun, ids: list[int] | None = None, model_label: str = "") -> SyncRun:
    run.state = SyncRun.State.RUNNING
    run.save(update_fields=["state"])
    job = _jobs.get((run.resource, run.direction))
    try:
        with sync.acting_as(run.requested_by):
            if job is not None:
                _run_job(run, job, ids)
            else:
                _run_records(run, ids, model_label)
    except Exception as exc:
        _finish(run, SyncRun.State.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    return run


# The task name it had in messaging: queued messages and routes refer to it.
@shared_task(name="messaging.tasks.run_sync", acks_late=True, soft_time_limit=TIME_LIMIT_SECONDS,
             time_limit=TIME_LIMIT_SECONDS + 60)
def run_sync(run_id: int, ids: list[int] | None = None, model_label: str = "") -> dict:
    run = sync_run_execute(run=SyncRun.objects.get(pk=run_id), ids=ids, model_label=model_label)
    return {"state": run.state, "counts": run.counts}
