"""Admin of the frequency cap (editable settings) and of who launches left out for it.
Imported by ``admin.py`` so that autodiscovery registers it."""

from __future__ import annotations

from django.contrib import admin

from core.admin_base import ReadOnlyAdmin
from messaging.campaigns.models import CapExclusion, FrequencyCap


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
