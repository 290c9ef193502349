"""Sound files and single calls in the admin."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse

from voice import forms as voice_forms
from voice.models import Call, RequestState, SoundFile


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
