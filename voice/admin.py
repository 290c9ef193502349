"""Voice in the admin: calls, bulk calls (launch, watch per-recipient statuses), sound files,
reports, opt-outs (the seven documented operations) and prices. Actions hand querysets to
``voice.services`` and turn the result into a message."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.models import SyncState
from voice import forms as voice_forms
from voice.models import (
    BulkCall,
    BulkCallBatch,
    BulkCallRecipient,
    Call,
    CallLog,
    CallRecording,
    RequestState,
    SoundFile,
    VoicePrice,
    VoiceUnsubscriber,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that come from BICS or from the engine: viewable, not editable here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------- sound files
@admin.register(SoundFile)
class SoundFileAdmin(admin.ModelAdmin):
    form = voice_forms.SoundFileForm
    list_display = ("name", "url", "content_type", "size", "bics_id", "state")
    list_filter = ("state",)
    search_fields = ("name", "url")
    readonly_fields = ("content_type", "size", "bics_id", "state", "error", "raw_response")
    actions = ("create_at_bics",)

    def get_fields(self, request, obj=None):
        return ("name", "url") if obj is None else ("name", "url", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        from voice.services.sounds import sound_file_push

        checked = getattr(form, "checked", None)
        if checked:
            obj.content_type, obj.size = checked.content_type, checked.size
        super().save_model(request, obj, form, change)
        if not obj.bics_id:
            sound_file_push(obj, body=checked.body if checked else None)
            if obj.state == RequestState.FAILED:
                self.message_user(request, f"BICS refused the sound: {obj.error}", messages.ERROR)

    @admin.action(description="Create at BICS (again)", permissions=["change"])
    def create_at_bics(self, request, queryset):
        from voice.services.sounds import SoundUrlError, sound_file_push

        done, failed = 0, []
        for sound in queryset.filter(bics_id=""):
            try:
                sound = sound_file_push(sound)
            except SoundUrlError as exc:
                failed.append(f"{sound}: {exc}")
                continue
            if sound.bics_id:
                done += 1
            else:
                failed.append(f"{sound}: {sound.error}")
        self.message_user(request, f"{done} sound file(s) created at BICS." + (" " + "; ".join(failed) if failed else ""),
                          messages.WARNING if failed else messages.SUCCESS)


# --------------------------------------------------------------------------- calls
@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    form = voice_forms.CallForm
    list_display = ("created_at", "kind", "to", "bridge", "name", "state", "status", "duration", "call_id")
    list_filter = ("kind", "state", "status", "interval")
    search_fields = ("=to", "=call_id", "=custom_id", "name")
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_select_related = ("sound_file",)
    readonly_fields = ("custom_id", "state", "status", "call_id", "api_message", "error", "duration",
                       "billing", "started_at", "ended_at", "hangup_by", "sent_at", "tts_text", "voice_id",
                       "tts_options", "from_number", "record", "attempts", "duration_limit", "mid",
                       "raw_request", "raw_response", "last_event")
    actions = ("send_drafts", "refresh_status", "reconcile_unknown")
    change_form_template = "voice/admin/call_change_form.html"

    def get_fields(self, request, obj=None):
        base = list(self.form.Meta.fields)
        return base if obj is None else base + list(self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        own_form = (Call.Kind.TTS, Call.Kind.CLICK2CALL)
        if obj is not None and (obj.state != RequestState.DRAFT or obj.kind in own_form):
            return (*self.form.Meta.fields, *self.readonly_fields)
        return self.readonly_fields if obj is not None else ()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        from voice.selectors import price_rows

        extra_context = {**(extra_context or {}), "prices": price_rows()[:30],
                         "tts_url": reverse("voice:tts"), "click2call_url": reverse("voice:click2call")}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            from voice.tasks import send_call

            transaction.on_commit(lambda: send_call.delay(obj.pk))
            self.message_user(request, "The call is being sent.")

    @admin.action(description="Send the selected draft calls (once each)", permissions=["add"])
    def send_drafts(self, request, queryset):
        from voice.services.calls import CallNotSendable, call_send

        sent, problems = 0, []
        for call in queryset.filter(state=RequestState.DRAFT)[:100]:
            try:
                call = call_send(call)
            except CallNotSendable as exc:
                problems.append(f"{call}: {exc}")
                continue
            sent += call.state == RequestState.QUEUED
            if call.state != RequestState.QUEUED:
                problems.append(f"{call}: {call.get_state_display()} {call.error}")
        self.message_user(request, f"{sent} call(s) accepted by BICS." + (" " + "; ".join(problems) if problems else ""),
                          messages.WARNING if problems else messages.SUCCESS)

    @admin.action(description="Refresh the status from BICS (Call Status)", permissions=["view"])
    def refresh_status(self, request, queryset):
        from bics.errors import BicsError
        from voice.services.calls import call_refresh_status

        done = 0
        for call in queryset.exclude(state=RequestState.DRAFT)[:200]:
            try:
                call_refresh_status(call)
                done += 1
            except BicsError as exc:
                self.message_user(request, f"{call}: {exc}", messages.ERROR)
        self.message_user(request, f"{done} call(s) refreshed.")

    @admin.action(description="Reconcile calls whose outcome is unknown", permissions=["change"])
    def reconcile_unknown(self, request, queryset):
        from voice.services.calls import call_reconcile

        calls = [call_reconcile(c) for c in queryset.filter(state=RequestState.UNKNOWN)]
        found = sum(c.state == RequestState.QUEUED for c in calls)
        self.message_user(request, f"{found} found at BICS, {len(calls) - found} not found (may be sent again).")


# --------------------------------------------------------------------------- bulk calls
class BatchInline(admin.TabularInline):
    model = BulkCallBatch
    extra = 0
    can_delete = False
    fields = ("number", "state", "attempts", "claimed_by", "claimed_at", "sent_at", "group_id", "total", "api_message", "error")
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(BulkCall)
class BulkCallAdmin(admin.ModelAdmin):
    form = voice_forms.BulkCallForm
    list_display = ("name", "mode", "audience_kind", "state", "recipients_count", "excluded_count", "total",
                    "estimated_cost", "launched_at")
    list_filter = ("state", "mode", "audience_kind")
    search_fields = ("name", "=group_id")
    autocomplete_fields = ("tags",)
    readonly_fields = ("state", "group_id", "total", "recipients_count", "excluded_count", "estimated_cost",
                       "launched_at", "finished_at", "progress", "audience_and_cost")
    inlines = (BatchInline,)
    actions = ("launch", "cancel", "estimate", "refresh_statuses")
    change_form_template = "voice/admin/bulkcall_change_form.html"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != BulkCall.State.DRAFT:
            return (*self.form.Meta.fields, *self.readonly_fields)
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and obj.state != BulkCall.State.DRAFT:  # launched: progress first
            first = [f for f in ("state", "progress") if f in fields]
            fields = first + [f for f in fields if f not in first]
        return fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None and obj.state != BulkCall.State.DRAFT else ()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        from voice.selectors import price_rows

        return super().changeform_view(request, object_id, form_url,
                                       {**(extra_context or {}), "prices": price_rows()[:30]})

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Audience and cost (before launch)")
    def audience_and_cost(self, obj):
        if obj is None or obj.pk is None or obj.state != BulkCall.State.DRAFT:
            return "-"
        from voice.services.bulk import BulkCallError
        from voice.services.pricing import bulk_audience_summary

        try:
            summary = bulk_audience_summary(obj)
        except BulkCallError as exc:
            return str(exc)
        est = summary.estimate
        cost = f"about {est.total} {est.currency}" if est.total is not None else "no price pulled yet"
        unpriced = f" ({est.unpriced} without a price)" if est.unpriced else ""
        return (f"{summary.reachable} call(s), {summary.excluded} voice unsubscriber(s) left out; "
                f"{cost}{unpriced}.")

    @admin.display(description="Per-recipient progress")
    def progress(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        from voice.services.bulk import bulk_progress

        data = bulk_progress(obj)
        url = reverse("admin:voice_bulkcallrecipient_changelist") + f"?bulk_call__id__exact={obj.pk}"
        states = ", ".join(f"{k}: {v}" for k, v in sorted(data["by_state"].items())) or "none yet"
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(data["by_status"].items())) or "none yet"
        return format_html('Requests — {}<br>Call statuses — {}<br><a href="{}">See every recipient</a>',
                           states, statuses, url)

    @admin.action(description="Launch (resolve the audience once and send in batches)", permissions=["change"])
    def launch(self, request, queryset):
        from voice.services.bulk import BulkCallError, bulk_call_launch

        for bulk in queryset.filter(state=BulkCall.State.DRAFT):
            try:
                bulk = bulk_call_launch(bulk)
            except BulkCallError as exc:
                self.message_user(request, f"{bulk}: {exc}", messages.ERROR)
                continue
            self.message_user(request, f"{bulk}: {bulk.recipients_count} recipient(s) in "
                                       f"{bulk.batches.count()} batch(es); {bulk.excluded_count} voice "
                                       f"unsubscriber(s) left out; estimated cost {bulk.estimated_cost or 'unknown'}.")

    @admin.action(description="Cancel (pending batches are not sent)", permissions=["change"])
    def cancel(self, request, queryset):
        from voice.services.bulk import bulk_call_cancel

        count = sum(bulk_call_cancel(b) for b in queryset)
        self.message_user(request, f"{count} pending batch(es) cancelled.")

    @admin.action(description="Estimate the cost (before launch)", permissions=["view"])
    def estimate(self, request, queryset):
        from voice.services.bulk import BulkCallError, bulk_audience
        from voice.services.pricing import bulk_estimate

        for bulk in queryset:
            try:
                audience = bulk_audience(bulk)
            except BulkCallError as exc:
                self.message_user(request, f"{bulk}: {exc}", messages.ERROR)
                continue
            est = bulk_estimate(numbers=[t.to for t in audience.targets])
            missing = f"; {est.unpriced} number(s) without a price (pull pricing)" if est.unpriced else ""
            self.message_user(request, f"{bulk}: {len(audience.targets)} call(s), {len(audience.excluded)} "
                                       f"excluded, about {est.total or 0} {est.currency}{missing}.")

    @admin.action(description="Refresh per-recipient statuses (Call Status)", permissions=["view"])
    def refresh_statuses(self, request, queryset):
        from bics.errors import BicsError
        from voice.services.bulk import bulk_refresh_statuses

        for bulk in queryset.exclude(state=BulkCall.State.DRAFT):
            try:
                self.message_user(request, f"{bulk}: {bulk_refresh_statuses(bulk)} recipient(s) updated.")
            except BicsError as exc:
                self.message_user(request, f"{bulk}: {exc}", messages.ERROR)


@admin.register(BulkCallRecipient)
class BulkCallRecipientAdmin(ReadOnlyAdmin):
    list_display = ("to", "bulk_call", "batch", "state", "status", "duration", "call_id", "updated_at")
    list_filter = ("state", "status", "bulk_call")
    search_fields = ("=to", "=call_id")
    list_select_related = ("bulk_call", "batch", "batch__bulk_call")
    show_full_result_count = False


@admin.register(BulkCallBatch)
class BulkCallBatchAdmin(ReadOnlyAdmin):
    list_display = ("bulk_call", "number", "state", "attempts", "claimed_by", "claimed_at", "sent_at", "group_id", "total")
    list_filter = ("state",)
    list_select_related = ("bulk_call",)
    search_fields = ("=group_id",)


# --------------------------------------------------------------------------- reports
@admin.register(CallLog)
class CallLogAdmin(ReadOnlyAdmin):
    list_display = ("end_at", "to", "caller_id", "bridge", "status", "duration", "billing", "hangup_by")
    list_filter = ("status",)
    search_fields = ("=to", "=bics_id")
    date_hierarchy = "end_at"
    show_full_result_count = False
    actions = ("pull_now",)

    @admin.action(description="Pull call logs and recordings (yesterday and today)", permissions=["view"])
    def pull_now(self, request, queryset):
        from voice.tasks import pull_call_reports

        pull_call_reports.delay()
        self.message_user(request, "Pull started; see Voice › Reports for a date range.")


@admin.register(CallRecording)
class CallRecordingAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "call_id", "duration", "player")
    search_fields = ("=call_id", "=bics_id")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Recording")
    def player(self, obj):
        if not obj.url:
            return "-"
        return format_html('<audio controls preload="none" src="{}"></audio>', obj.url)


# --------------------------------------------------------------------------- opt-outs
@admin.register(VoiceUnsubscriber)
class VoiceUnsubscriberAdmin(admin.ModelAdmin):
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

    @admin.action(description="Push to BICS", permissions=["change"])
    def push_to_bics(self, request, queryset):
        from voice.services.unsubscribers import unsubscribers_push

        result = unsubscribers_push(queryset)
        self.message_user(request, result.summary(), messages.SUCCESS if result.ok else messages.WARNING)

    @admin.action(description="Pull from BICS (the whole list)", permissions=["view"])
    def pull_from_bics(self, request, queryset):
        from voice.services.unsubscribers import unsubscribers_pull

        result = unsubscribers_pull()
        self.message_user(request, result.summary(), messages.SUCCESS if result.ok else messages.WARNING)

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


@admin.register(VoicePrice)
class VoicePriceAdmin(ReadOnlyAdmin):
    list_display = ("iso", "country", "service", "subservice", "price", "currency", "status", "pulled_at")
    list_filter = ("service", "currency")
    search_fields = ("iso", "country")
    actions = ("pull_pricing",)

    @admin.action(description="Pull voice pricing from BICS", permissions=["view"])
    def pull_pricing(self, request, queryset):
        from voice.services.pricing import pricing_pull

        self.message_user(request, f"{pricing_pull()} price row(s) pulled.")


# --------------------------------------------------------------------------- contacts
@admin.action(description="Call this contact (click-to-call)")
def call_this_contact(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one contact to call.", messages.WARNING)
        return None
    contact = queryset.first()
    return HttpResponseRedirect(reverse("voice:click2call") + f"?contact={contact.pk}")


def _extend_contact_admin() -> None:
    """Add "Call this contact" to the registered Contact admin (contacts stays untouched)."""
    try:
        import contacts.admin  # noqa: F401 - make sure it registered first
        from contacts.models import Contact
    except ImportError:
        return
    registered = admin.site._registry.get(Contact)  # noqa: SLF001
    if registered is not None and call_this_contact not in (registered.actions or ()):
        registered.actions = (*(registered.actions or ()), call_this_contact)


_extend_contact_admin()
