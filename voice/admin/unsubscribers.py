"""Voice opt-outs in the admin: the seven documented operations, clean and import."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from core.admin_sync import SyncRunActionsMixin
from core.models import SyncState
from voice import forms as voice_forms
from voice.models import VoiceUnsubscriber


@admin.register(VoiceUnsubscriber)
class VoiceUnsubscriberAdmin(SyncRunActionsMixin, admin.ModelAdmin):
    sync_resource = "voice_unsubscribers"
    form = voice_forms.VoiceUnsubscriberForm
    list_display = ("number", "type", "value", "iso", "bics_id", "sync_state", "synced_at")
    list_filter = ("sync_state", "type", "iso")
    search_fields = ("=number", "value", "=bics_id")
    readonly_fields = ("iso", "bics_id", "sync_state", "synced_at", "sync_error")
    actions = ("push_to_bics", "pull_from_bics", "view_at_bics", "delete_at_bics", "export_csv")
    change_list_template = "voice/admin/unsubscriber_change_list.html"

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletion goes through BICS first
        return actions

    def save_model(self, request, obj, form, change):
        from voice.services.unsubscribers import RESOURCE

        if change and form.has_changed() and obj.sync_state in (SyncState.SYNCED, SyncState.FAILED):
            obj.sync_state = SyncState.DIRTY
        super().save_model(request, obj, form, change)
        from core.sync import push

        result = push(RESOURCE, VoiceUnsubscriber.objects.filter(pk=obj.pk))
        self.message_user(request, result.summary(), messages.SUCCESS if result.ok else messages.WARNING)

    def delete_model(self, request, obj):
        from voice.services.unsubscribers import unsubscriber_delete

        result = unsubscriber_delete(obj)
        if not result.ok:
            self.message_user(request, result.summary(), messages.ERROR)

    @admin.action(description="View at BICS (refresh from View Unsubscriber)", permissions=["view"])
    def view_at_bics(self, request, queryset):
        from bics.errors import BicsError
        from voice.services.unsubscribers import unsubscriber_view

        for obj in queryset[:50]:
            try:
                data = unsubscriber_view(obj)
                self.message_user(request, f"{obj}: {data}")
            except (BicsError, ValueError) as exc:
                self.message_user(request, f"{obj}: {exc}", messages.ERROR)

    @admin.action(description="Delete at BICS, then here", permissions=["delete"])
    def delete_at_bics(self, request, queryset):
        from core.sync import SyncResult
        from voice.services.unsubscribers import RESOURCE, unsubscriber_delete

        result = SyncResult(resource=RESOURCE, direction="push")
        for obj in queryset:
            result.merge(unsubscriber_delete(obj))
        self.message_user(request, result.summary(), messages.SUCCESS if result.ok else messages.WARNING)

    @admin.action(description="Export as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        from voice.services.unsubscribers import unsubscribers_export_csv

        response = HttpResponse(unsubscribers_export_csv(queryset), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="voice-unsubscribers.csv"'
        return response

    def get_urls(self):
        return [
            path("clean/", self.admin_site.admin_view(self.clean_view), name="voice_voiceunsubscriber_clean"),
            path("import/", self.admin_site.admin_view(self.import_view), name="voice_voiceunsubscriber_import"),
            path("export/", self.admin_site.admin_view(self.export_all_view), name="voice_voiceunsubscriber_export"),
            *super().get_urls(),
        ]

    def export_all_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self.export_csv(request, VoiceUnsubscriber.objects.all())

    def clean_view(self, request):
        from bics.errors import BicsError
        from voice.services.unsubscribers import CLEAN_CONFIRMATION, unsubscribers_clean

        if not request.user.is_superuser:
            raise PermissionDenied
        form = voice_forms.CleanUnsubscribersForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                count = unsubscribers_clean(user=request.user, confirmation=form.cleaned_data["confirmation"])
            except ValueError as exc:
                form.add_error("confirmation", str(exc))
            except BicsError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"Every voice unsubscriber was removed at BICS; {count} removed here.")
                return HttpResponseRedirect(reverse("admin:voice_voiceunsubscriber_changelist"))
        return TemplateResponse(request, "voice/admin/clean.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "phrase": CLEAN_CONFIRMATION, "count": VoiceUnsubscriber.objects.count(),
            "title": "Clean voice unsubscribers"})

    def import_view(self, request):
        from bics.errors import BicsError
        from voice.services.unsubscribers import unsubscribers_import

        if not self.has_add_permission(request):
            raise PermissionDenied
        form = voice_forms.ImportUnsubscribersForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = unsubscribers_import(content=upload.read(), filename=upload.name)
            except BicsError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"BICS: {result['message']}. {result['added']} number(s) excluded here at once.")
                return HttpResponseRedirect(reverse("admin:voice_voiceunsubscriber_changelist"))
        return TemplateResponse(request, "voice/admin/import.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "title": "Import voice unsubscribers"})
