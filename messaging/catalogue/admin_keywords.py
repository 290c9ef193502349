"""Admin of the opt-out keywords (editable) and of the changes replies made (read-only).
Imported by ``admin.py`` so that autodiscovery registers it."""

from __future__ import annotations

from django.contrib import admin

from core.admin import MaskedNumbersMixin
from core.admin_base import ReadOnlyAdmin
from messaging.catalogue.models import OptOutChange, OptOutKeyword


@admin.register(OptOutKeyword)
class OptOutKeywordAdmin(admin.ModelAdmin):
    list_display = ("word", "language", "action", "active")
    list_filter = ("action", "language", "active")
    list_editable = ("active",)
    search_fields = ("word", "normalised")
    readonly_fields = ("normalised",)


@admin.register(OptOutChange)
class OptOutChangeAdmin(MaskedNumbersMixin, ReadOnlyAdmin):
    masked_number_fields = ("number",)
    list_display = ("created_at", "number", "channel", "action", "keyword", "detail", "inbound_message")
    list_filter = ("action", "channel")
    search_fields = ("=number", "keyword")
    list_select_related = ("inbound_message",)
    date_hierarchy = "created_at"
