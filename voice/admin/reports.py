"""Call logs, recordings and voice prices pulled from BICS (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from core.admin_base import ReadOnlyAdmin
from core.admin_sync import SyncRunActionsMixin
from voice.jobs import PRICING_JOB, REPORTS_JOB
from voice.models import CallLog, CallRecording, VoicePrice


@admin.register(CallLog)
class CallLogAdmin(SyncRunActionsMixin, ReadOnlyAdmin):
    list_display = ("end_at", "to", "caller_id", "bridge", "status", "duration", "billing", "hangup_by")
    list_filter = ("status",)
    search_fields = ("=to", "=bics_id")
    date_hierarchy = "end_at"
    show_full_result_count = False
    actions = ("pull_now",)

    @admin.action(description="Pull call logs and recordings (yesterday and today)", permissions=["view"])
    def pull_now(self, request, queryset):
        self.start_sync_run(request, REPORTS_JOB, "pull")


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



@admin.register(VoicePrice)
class VoicePriceAdmin(SyncRunActionsMixin, ReadOnlyAdmin):
    list_display = ("iso", "country", "service", "subservice", "price", "currency", "status", "pulled_at")
    list_filter = ("service", "currency")
    search_fields = ("iso", "country")
    actions = ("pull_pricing",)

    @admin.action(description="Pull voice pricing from BICS", permissions=["view"])
    def pull_pricing(self, request, queryset):
        self.start_sync_run(request, PRICING_JOB, "pull")
