"""The one way to push and pull from the admin: ``SyncRunActionsMixin``'s actions start a
``SyncRun`` (run by a task, its outcome on the sync run's page); ``SyncedAdmin`` is a model
admin of synced records with those actions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from core import sync
from core.admin_base import ReadOnlyAdmin
from core.admin_pull import PullButtonsMixin
from core.models import SyncRun, SyncState
from core.sync_runs import sync_run_start

SYNC_FIELDS = ("bics_id", "sync_state", "synced_at", "sync_error")


def _report_run(modeladmin, request, run):
    if run.state == SyncRun.State.DONE:
        modeladmin.message_user(request, run.summary, messages.SUCCESS)
    elif run.state == SyncRun.State.FAILED:
        modeladmin.message_user(request, run.summary, messages.ERROR)
    else:
        url = reverse("admin:core_syncrun_change", args=[run.pk])
        modeladmin.message_user(request, format_html(
            "{} {} queued; its result will appear in <a href=\"{}\">sync run #{}</a>.",
            run.direction.capitalize(), run.resource, url, run.pk), messages.INFO)


class SyncRunActionsMixin:
    """The one way to push and pull from the admin: "Push to BICS" / "Pull from BICS" start a
    ``SyncRun`` of ``sync_resource`` (run by the ``run_sync`` task), and the message links to
    the run's page. Other pulls (price lists, reports) call ``start_sync_run`` with the
    resource of a job registered with ``core.sync_runs.register_job``."""

    sync_resource = ""

    def start_sync_run(self, request, resource: str, direction: str, queryset=None) -> SyncRun:
        ids = list(queryset.values_list("pk", flat=True)) if queryset is not None else None
        run = sync_run_start(resource=resource, direction=direction, user=request.user, ids=ids,
                             model_label=queryset.model._meta.label if queryset is not None else "")
        _report_run(self, request, run)
        return run

    @admin.action(description="Push to BICS", permissions=["change"])
    def push_to_bics(self, request, queryset):
        self.start_sync_run(request, self.sync_resource, "push", queryset)

    @admin.action(description="Pull from BICS (the whole list)", permissions=["change"])
    def pull_from_bics(self, request, queryset):
        self.start_sync_run(request, self.sync_resource, "pull")


class SyncedAdmin(PullButtonsMixin, SyncRunActionsMixin, admin.ModelAdmin):
    """Sync fields read-only, "Push to BICS" / "Pull from BICS" actions, edits mark dirty,
    deletes go to BICS first (a refusal keeps the record)."""

    show_full_result_count = False
    actions = ["push_to_bics", "pull_from_bics"]
    synced_form_fields: tuple[str, ...] = ()  # a change to one of these marks the record dirty

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *SYNC_FIELDS)

    def save_model(self, request, obj, form, change):
        if change and obj.bics_id and set(form.changed_data) & set(self.synced_form_fields):
            obj.sync_state = SyncState.DIRTY
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        result = sync.push_delete(obj)
        for _record, reason in result.failed:
            request._bics_delete_refused = True
            self.message_user(request, f"BICS refused the delete; the record is kept: {reason}", messages.ERROR)

    def response_delete(self, request, obj_display, obj_id):
        if getattr(request, "_bics_delete_refused", False):
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj_id]))
        return super().response_delete(request, obj_display, obj_id)

    def delete_queryset(self, request, queryset):
        failed = []
        for obj in queryset:
            failed += sync.push_delete(obj).failed
        for record, reason in failed:
            self.message_user(request, f"{record}: BICS refused the delete, kept: {reason}", messages.ERROR)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "resource", "direction", "state", "counts", "requested_by", "finished_at")
    list_filter = ("state", "direction", "resource")
    list_select_related = ("requested_by",)
    readonly_fields = ("resource", "direction", "state", "requested_by", "created_at", "finished_at",
                       "counts", "failures", "summary")

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or request.user.is_staff
