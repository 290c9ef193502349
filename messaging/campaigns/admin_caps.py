"""Admin of the frequency cap and the sending windows (editable settings) and of who launches
left out for the cap. Imported by ``admin.py`` so that autodiscovery registers it."""

from __future__ import annotations

from django.contrib import admin

from core.admin_base import ReadOnlyAdmin
from messaging.campaigns.models import CapExclusion, FrequencyCap, SendingWindow


@admin.register(FrequencyCap)
class FrequencyCapAdmin(admin.ModelAdmin):
    list_display = ("__str__", "max_messages", "period_days", "active", "updated_at")
    list_editable = ("max_messages", "period_days", "active")
    list_display_links = ("__str__",)


@admin.register(CapExclusion)
class CapExclusionAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "contact_id", "reason", "created_at")
    list_select_related = ("campaign", "contact")
    raw_id_fields = ("campaign", "contact")
    search_fields = ("campaign__name",)


@admin.register(SendingWindow)
class SendingWindowAdmin(admin.ModelAdmin):
    list_display = ("country_or_default", "traffic", "opens", "closes", "weekdays", "active", "shipped")
    list_filter = ("traffic", "active", "shipped")
    search_fields = ("country",)
    readonly_fields = ("shipped",)

    @admin.display(description="country", ordering="country")
    def country_or_default(self, obj):
        return obj.country or "Default (every other country)"

    def get_changeform_initial_data(self, request):
        return {"opens": "08:00", "closes": "21:00", "weekdays": "012345"}

    def changelist_view(self, request, extra_context=None):
        from django.contrib import messages

        messages.info(request, "Shipped windows are common practice, switched off until you have checked them "
                               "for your traffic and countries: they are not legal advice.")
        return super().changelist_view(request, extra_context)
