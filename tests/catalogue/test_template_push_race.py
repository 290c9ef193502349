"""Two push requests at the same moment: one run per selection, decided by the database (the
unique constraint on busy pushes), on SQLite here and on PostgreSQL in the rerun (with the
template decisions' race and state table)."""

import pytest
from django.db import connection

from core import sync_runs
from core.models import SyncRun
from tests.concurrency import on_postgresql, race, run_on_postgresql


@pytest.fixture
def queued_only(monkeypatch):
    """Runs are recorded but no worker takes them: they stay in flight."""
    monkeypatch.setattr(sync_runs.run_sync, "delay", lambda *args, **kwargs: None)


def start(ids):
    return sync_runs.sync_run_start(resource="templates", direction="push", ids=ids,
                                    model_label="messaging.Template")


THREADS_NEED_ROW_LOCKS = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="threads racing on one SQLite file depend on the suite's order: run on PostgreSQL by the rerun below")


@THREADS_NEED_ROW_LOCKS
@pytest.mark.django_db(transaction=True)
def test_racing_pushes_of_the_same_selection_share_one_run(queued_only):
    runs = race(lambda: [start([3, 1, 2]).pk])
    assert len(runs) == 6 and len(set(runs)) == 1
    assert SyncRun.objects.filter(direction="push").count() == 1


@THREADS_NEED_ROW_LOCKS
@pytest.mark.django_db(transaction=True)
def test_racing_pushes_of_different_selections_each_get_a_run(queued_only):
    runs = race(lambda: [start([1]).pk, start([2]).pk, start([1, 2]).pk])
    assert len(set(runs)) == 3
    assert sorted(SyncRun.objects.values_list("selection", flat=True)) == sorted(
        sync_runs.selection_key(ids) for ids in ([1], [2], [1, 2]))


@pytest.mark.django_db(transaction=True)
def test_a_dead_run_frees_its_selection(queued_only):
    from datetime import timedelta

    from django.utils import timezone

    dead = start([7])
    SyncRun.objects.filter(pk=dead.pk).update(
        created_at=timezone.now() - timedelta(seconds=sync_runs.STALE_AFTER_SECONDS + 60))
    fresh = start([7])
    assert fresh.pk != dead.pk
    assert SyncRun.objects.get(pk=dead.pk).state == SyncRun.State.FAILED


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db
def test_push_runs_and_template_decisions_race_on_postgresql():
    """Read committed lets racers pass a first check: the constraint and the conditional UPDATEs
    decide. This module, the template state table and the racing decisions, on PostgreSQL."""
    if on_postgresql():
        assert connection.vendor == "postgresql"
        return
    four_eyes = "tests/catalogue/test_four_eyes.py"
    run_on_postgresql([__file__, f"{four_eyes}::test_racing_decisions_on_one_version_record_exactly_one",
                       f"{four_eyes}::test_every_transition_from_every_state"], name="pushruns")
