"""The one way to push and pull from the admin: SyncRunActionsMixin starts a SyncRun, the
run_sync task runs it (records through core.sync, or a registered job), and the admin
message reports the outcome or links to the run's page."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from core import sync_runs
from core.admin_sync import SyncRunActionsMixin
from core.models import SyncRun

pytestmark = pytest.mark.django_db


class _RunsAdmin(SyncRunActionsMixin, admin.ModelAdmin):
    pass


@pytest.fixture
def modeladmin():
    return _RunsAdmin(SyncRun, admin.site)


@pytest.fixture
def request_(admin_user):
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _messages(request) -> list[str]:
    return [str(m) for m in request._messages]


@pytest.fixture
def job(monkeypatch):
    calls = []

    def count(ids):
        calls.append(ids)
        return {"counted": len(ids or [])}

    monkeypatch.setitem(sync_runs._jobs, ("things", "pull"), count)
    return calls


def test_a_job_runs_as_a_sync_run_and_reports_its_counts(modeladmin, request_, admin_user, job):
    run = modeladmin.start_sync_run(request_, "things", "pull", SyncRun.objects.none())
    run.refresh_from_db()
    assert (run.state, run.counts, run.requested_by) == (SyncRun.State.DONE, {"counted": 0}, admin_user)
    assert run.summary == "Pull things: 0 counted." and run.finished_at is not None
    assert job == [None]
    assert _messages(request_) == ["Pull things: 0 counted."]


def test_the_selection_reaches_the_job(modeladmin, request_, admin_user, job):
    other = SyncRun.objects.create(resource="x", direction="pull")
    modeladmin.start_sync_run(request_, "things", "pull", SyncRun.objects.filter(pk=other.pk))
    assert job == [[other.pk]]


def test_a_failing_job_is_a_failed_run_and_the_page_still_answers(modeladmin, request_, monkeypatch):
    def refuse(ids):
        raise RuntimeError("BICS said no")

    monkeypatch.setitem(sync_runs._jobs, ("things", "pull"), refuse)
    run = modeladmin.start_sync_run(request_, "things", "pull")
    assert run.state == SyncRun.State.FAILED and "BICS said no" in run.summary
    assert any("BICS said no" in m for m in _messages(request_))


def test_a_queued_run_links_to_its_page(modeladmin, request_, job, monkeypatch):
    monkeypatch.setattr(sync_runs.run_sync, "delay", lambda *a, **k: None)
    run = modeladmin.start_sync_run(request_, "things", "pull")
    assert run.state == SyncRun.State.QUEUED and job == []
    assert any(f"sync run #{run.pk}" in m and f"/admin/core/syncrun/{run.pk}/" in m for m in _messages(request_))


def test_a_broker_refusal_fails_the_run_instead_of_leaving_it_queued(modeladmin, request_, job, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(sync_runs.run_sync, "delay", down)
    run = modeladmin.start_sync_run(request_, "things", "pull")
    assert run.state == SyncRun.State.FAILED and "broker unreachable" in run.summary


def test_an_unknown_resource_is_refused_before_anything_is_queued(modeladmin, request_):
    with pytest.raises(KeyError):
        modeladmin.start_sync_run(request_, "no-such-list", "pull")
    assert not SyncRun.objects.exists()


def test_every_push_and_pull_action_of_the_apps_starts_a_sync_run():
    """No admin keeps a push/pull of its own: the actions are the mixin's."""
    admins = [a for a in admin.site._registry.values() if hasattr(a, "push_to_bics") or hasattr(a, "pull_from_bics")]
    assert {type(a).__name__ for a in admins} >= {"ContactAdmin", "TagAdmin", "SegmentAdmin", "SenderAdmin",
                                                   "VoiceUnsubscriberAdmin", "WebhookAdmin"}
    for model_admin in admins:
        assert isinstance(model_admin, SyncRunActionsMixin), type(model_admin).__name__
        assert type(model_admin).push_to_bics is SyncRunActionsMixin.push_to_bics, type(model_admin).__name__
        assert type(model_admin).pull_from_bics is SyncRunActionsMixin.pull_from_bics, type(model_admin).__name__
