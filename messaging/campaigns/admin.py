"""Admin of the campaigns app.

Declarative options; actions hand the queryset to the campaign services and report.
Pause/resume/cancel take effect between batches. Messages, batches and delivery reports are
read-only records of what happened.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from core.admin import MaskedNumbersMixin
from core.admin_base import ReadOnlyAdmin
from core.admin_pull import PullButton, PullButtonsMixin, start_task
from core.phones import PhoneError, normalise_phone
from messaging.campaigns.models import (
    Campaign,
    CampaignTestSend,
    CampaignTransition,
    DeliveryReport,
    Message,
    SendBatch,
    SmartLink,
    SmartLinkVisit,
)
from messaging.campaigns.services import campaigns as services
from messaging.campaigns.services import smart_links
from messaging.campaigns.tasks import pull_smart_link_visits
from messaging.catalogue.models import Channel

EDITABLE_STATES = (Campaign.State.DRAFT,)


class TransitionInline(admin.TabularInline):
    model = CampaignTransition
    extra = 0
    can_delete = False
    fields = ("at", "from_state", "to_state", "by", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class TestSendInline(admin.TabularInline):
    """Who sent each test of the campaign, when, to which numbers (read-only)."""

    model = CampaignTestSend
    extra = 0
    can_delete = False
    fields = ("at", "by", "numbers", "results")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class SmartLinkInline(admin.TabularInline):
    # Smart links are created in the BICS portal; staff name the link id here to see its clicks.
    model = SmartLink
    fields = ("link_id", "name", "visits_pulled_at")
    readonly_fields = ("visits_pulled_at",)
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "state", "scheduled_at", "audience_size", "launched_at", "owner", "page")
    list_filter = ("state", "channel", "smart_delivery")
    search_fields = ("name",)
    list_select_related = ("owner",)
    autocomplete_fields = ("segments", "tags")
    raw_id_fields = ("owner",)
    inlines = [TransitionInline, TestSendInline, SmartLinkInline]
    actions = ["launch_now", "pause", "resume", "cancel"]
    fieldsets = (
        (None, {"fields": ("name", "channel", "sender", "template", "variable_mapping", "owner", "traffic")}),
        ("Audience", {"fields": ("segments", "tags", "upload")}),
        ("Schedule", {"fields": ("scheduled_at", "time_zone", "batch_size", "batch_interval", "validity_hours")}),
        ("Smart delivery", {"fields": ("smart_delivery", "smart_delay_minutes", "smart_sample_size",
                                       "smart_wait_minutes")}),
        ("Progress", {"fields": ("state", "state_reason", "last_error", "last_error_at", "template_approval", "launched_at", "finished_at",
                                 "audience_size", "exclusions", "estimated_cost", "page")}),
    )
    readonly_fields = ("state", "state_reason", "last_error", "last_error_at", "template_approval", "launched_at",
                       "finished_at", "audience_size", "exclusions", "estimated_cost", "page")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.state not in EDITABLE_STATES:
            fields += ["channel", "sender", "template", "variable_mapping", "segments", "tags", "upload", "scheduled_at",
                       "smart_delivery", "smart_sample_size", "batch_size"]
        return fields

    @admin.display(description="Page")
    def page(self, obj):
        if not obj.pk:
            return "—"
        return format_html('<a href="{}">progress</a> · <a href="{}">preview / launch</a>',
                           reverse("campaigns:detail", args=[obj.pk]), reverse("campaigns:preview", args=[obj.pk]))

    def save_model(self, request, obj, form, change):
        if not change and obj.owner_id is None:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def _each(self, request, queryset, func, verb):
        done, refused = 0, []
        for campaign in queryset:
            try:
                if func(campaign=campaign, user=request.user) is not False:
                    done += 1
                else:
                    refused.append(f"{campaign}: not {verb} ({campaign.get_state_display().lower()})")
            except services.CampaignError as exc:
                refused.append(f"{campaign}: {exc}")
        if done:
            self.message_user(request, f"{done} campaign(s) {verb}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description="Launch now", permissions=["change"])
    def launch_now(self, request, queryset):
        self._each(request, queryset, lambda **kw: services.campaign_launch(now=True, **kw), "launched")

    @admin.action(description="Pause (between batches)", permissions=["change"])
    def pause(self, request, queryset):
        self._each(request, queryset, services.campaign_pause, "paused")

    @admin.action(description="Resume", permissions=["change"])
    def resume(self, request, queryset):
        self._each(request, queryset, services.campaign_resume, "resumed")

    @admin.action(description="Cancel (between batches)", permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, services.campaign_cancel, "cancelled")


@admin.register(CampaignTestSend)
class CampaignTestSendAdmin(ReadOnlyAdmin):
    list_display = ("at", "campaign", "by", "numbers", "results")
    list_select_related = ("campaign", "by")
    raw_id_fields = ("campaign", "by")


@admin.register(SendBatch)
class SendBatchAdmin(ReadOnlyAdmin):
    list_display = ("custom", "campaign", "number", "state", "size", "is_sample", "attempts", "claimed_at",
                    "sent_at", "group_id")
    list_filter = ("state", "is_sample")
    search_fields = ("=custom", "=group_id")
    list_select_related = ("campaign",)
    raw_id_fields = ("campaign",)


class ChannelFilter(admin.SimpleListFilter):
    """The channels from the code, not a `SELECT DISTINCT` over millions of rows."""

    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Channel.choices

    def queryset(self, request, queryset):
        return queryset.filter(channel=self.value()) if self.value() else queryset


class ExactSearchMixin:
    """Search by whole identifiers with plain `=` so the indexes are used (the admin's `=field`
    search is case-insensitive: LIKE on SQLite, UPPER() on PostgreSQL, both scans)."""

    exact_search_fields: tuple[str, ...] = ()
    number_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        numbers = {term}
        try:
            e164 = normalise_phone(term)[0]
            numbers |= {e164, e164.lstrip("+")}  # DLRs may carry the digits-only notation
        except PhoneError:
            pass
        q = Q()
        for name in self.exact_search_fields:
            q |= Q(**{name: term})
        for name in self.number_fields:
            q |= Q(**{f"{name}__in": numbers})
        return queryset.filter(q), False


@admin.register(Message)
class MessageAdmin(MaskedNumbersMixin, ExactSearchMixin, ReadOnlyAdmin):
    list_display = ("number", "campaign", "status", "bics_status", "error_code", "parts", "price", "submitted_at",
                    "delivered_at")
    list_filter = ("status", ChannelFilter, "is_sample")
    search_fields = ("number", "custom_id", "bics_message_id")  # exact, see ExactSearchMixin
    exact_search_fields = ("custom_id", "bics_message_id")
    number_fields = ("number",)
    list_select_related = ("campaign",)
    raw_id_fields = ("campaign", "batch", "contact")


@admin.register(DeliveryReport)
class DeliveryReportAdmin(MaskedNumbersMixin, ExactSearchMixin, ReadOnlyAdmin):
    list_display = ("received_at", "channel", "source", "status", "code", "mobile", "cid", "bics_message_id",
                    "applied")
    list_filter = ("source", ChannelFilter, "applied")
    search_fields = ("mobile", "cid", "bics_message_id")  # exact, see ExactSearchMixin
    exact_search_fields = ("cid", "bics_message_id")
    number_fields = ("mobile",)
    masked_number_fields = ("mobile",)
    raw_id_fields = ("message",)


@admin.register(SmartLink)
class SmartLinkAdmin(PullButtonsMixin, admin.ModelAdmin):
    pull_buttons = (PullButton("visits", "Pull every visits report from BICS",
                               start_task(pull_smart_link_visits, "Pull of the visits reports")),)
    list_display = ("link_id", "name", "campaign", "visit_count", "visits_pulled_at")
    search_fields = ("link_id", "name", "campaign__name")
    raw_id_fields = ("campaign",)
    actions = ["pull_visits"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign").annotate(n_visits=Count("visits"))

    @admin.display(description="Visits (clicks)", ordering="n_visits")
    def visit_count(self, obj):
        return obj.n_visits

    @admin.action(description="Pull the visits report from BICS", permissions=["change"])
    def pull_visits(self, request, queryset):
        total, failed = 0, []
        for link in queryset:
            try:
                total += smart_links.smart_link_visits_pull(smart_link=link)
            except Exception as exc:  # reported
                failed.append(f"{link.link_id}: {exc}")
        self.message_user(request, f"{total} visit(s) pulled.", messages.SUCCESS)
        for line in failed:
            self.message_user(request, line, messages.ERROR)


@admin.register(SmartLinkVisit)
class SmartLinkVisitAdmin(MaskedNumbersMixin, admin.ModelAdmin):
    show_full_result_count = False
    masked_number_fields = ("mobile",)
    list_display = ("created_at", "link_id", "smart_link", "country", "city", "device_type", "browser", "mobile",
                    "source")
    list_filter = ("source", "device_type", "country_code")
    list_select_related = ("smart_link",)
    search_fields = ("link_id", "bics_id")
    readonly_fields = [f.name for f in SmartLinkVisit._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)


from messaging.campaigns import admin_caps  # noqa: E402,F401 - registers the frequency cap admins
