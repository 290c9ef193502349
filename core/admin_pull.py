"""Pull buttons above an admin list: a pull of the whole list needs no selection (an admin
action does, and an empty list has nothing to select). Each button is a POST to a small
changelist view that starts the pull and says where its result will show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html


@dataclass(frozen=True)
class PullButton:
    key: str  # the URL's last part
    label: str
    start: Callable  # start(user) -> (message, level)
    permission: str = "view"


def start_sync_pull(resource: str) -> Callable:
    """A button's start: a SyncRun pulling ``resource`` (run by the ``run_sync`` task)."""

    def start(user):
        from core.models import SyncRun
        from core.sync_runs import sync_run_start

        run = sync_run_start(resource=resource, direction="pull", user=user)
        url = reverse("admin:core_syncrun_change", args=[run.pk])
        level = {SyncRun.State.DONE: messages.SUCCESS, SyncRun.State.FAILED: messages.ERROR}.get(
            run.state, messages.INFO)
        text = run.summary if run.state in (SyncRun.State.DONE, SyncRun.State.FAILED) else "queued"
        return format_html('Pull of {}: {} (<a href="{}">sync run #{}</a>).', resource, text, url, run.pk), level

    return start


def start_task(task, what: str) -> Callable:
    """A button's start: queue a Celery task without arguments (a periodic pull, run now)."""

    def start(user):
        result = task.delay()
        if result.ready():  # eager Celery (tests) ran it already
            return f"{what}: done.", messages.SUCCESS
        return f"{what} queued: reload this list in a few seconds.", messages.INFO

    return start


class PullButtonsMixin:
    """``pull_buttons`` (or, for a synced list, "Pull from BICS" from ``sync_resource``) shown
    as object-tools buttons by templates/admin/change_list_object_tools.html."""

    pull_buttons: tuple[PullButton, ...] = ()

    def _buttons(self) -> list[PullButton]:
        buttons = list(self.pull_buttons)
        resource = getattr(self, "sync_resource", "")
        if resource and not any(b.key == "bics" for b in buttons):
            buttons.append(PullButton("bics", "Pull the whole list from BICS", start_sync_pull(resource), "change"))
        return buttons

    def get_pull_buttons(self, request) -> list[PullButton]:
        return [b for b in self._buttons() if self._may_pull(request, b)]

    def _may_pull(self, request, button: PullButton) -> bool:
        return getattr(self, f"has_{button.permission}_permission")(request)

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_pull"
        return [path("pull/<slug:key>/", self.admin_site.admin_view(self.pull_view), name=name),
                *super().get_urls()]

    def pull_view(self, request, key: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        button = next((b for b in self._buttons() if b.key == key), None)
        if button is None:
            raise Http404
        if not self._may_pull(request, button):
            raise PermissionDenied
        text, level = button.start(request.user)
        self.message_user(request, text, level)
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    def changelist_view(self, request, extra_context=None):
        opts = self.model._meta
        buttons = [(b.label, reverse(f"admin:{opts.app_label}_{opts.model_name}_pull", args=[b.key]))
                   for b in self.get_pull_buttons(request)]
        return super().changelist_view(request, {**(extra_context or {}), "pull_buttons": buttons})
