"""Bulk calls in the admin: launch, cancel, estimate, watch batches and recipients."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from core.admin_base import ReadOnlyAdmin
from voice import forms as voice_forms
from voice.models import BulkCall, BulkCallBatch, BulkCallRecipient


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
        from voice.services.bulk import BulkCallError, bulk_audience_summary

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
