"""Admin of the webhooks app.

Secrets are write-only: a new one is typed or generated in the form (or by "Connect this
back-office"), shown once in the admin message of that request, and masked afterwards."""

from __future__ import annotations

import logging
import secrets

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import MaskedNumbersMixin
from core.admin_sync import SyncedAdmin
from messaging.webhooks import connect as connecting
from messaging.webhooks import services as webhook_services
from messaging.webhooks.models import (
    WEBHOOK_EVENTS,
    InboundMessage,
    Subscription,
    Webhook,
    WebhookEvent,
)
from messaging.webhooks.parsing import SMART_LINK_VISIT

log = logging.getLogger(__name__)
MASK = "•••••••• (set)"

CHANGE_LIST = """{% extends "admin/change_list.html" %}
{% block object-tools-items %}
<li><a href="{% url 'admin:webhooks_webhook_connect' %}">Connect this back-office</a></li>
{{ block.super }}
{% endblock %}"""

CONNECT_PAGE = """{% extends "admin/base_site.html" %}
{% block content %}
<h1>Connect this back-office to BICS</h1>
<p>This creates (or repairs) the webhook <strong>{{ name }}</strong> at BICS pointing at
<code>{{ url }}</code>, with a fresh secret and verification token, and subscribes it to
{{ events|length }} events: {{ events|join:", " }}.</p>
<form method="post">{% csrf_token %}
<input type="submit" value="Connect" class="default">
<a href="{% url 'admin:webhooks_webhook_changelist' %}" class="button cancel-link">Cancel</a>
</form>
{% endblock %}"""


class WebhookAdminForm(forms.ModelForm):
    new_secret = forms.CharField(required=False, strip=True, widget=forms.PasswordInput(render_value=False),
                                 help_text="Write-only: type a new secret, or tick 'generate'. Empty keeps it.")
    generate_secret = forms.BooleanField(
        required=False, label="Generate a new secret",
        help_text="Shown once. Save, then 'Push to BICS': BICS sends it with every callback "
                  "(Authorization: Bearer …). A webhook without a secret refuses every callback.")
    new_token = forms.CharField(label="New verification token", required=False,
                                widget=forms.PasswordInput(render_value=False),
                                help_text="Write-only; used by the verification handshake on creation.")

    class Meta:
        model = Webhook
        fields = ("name", "uri", "status")


@admin.register(Webhook)
class WebhookAdmin(SyncedAdmin):
    form = WebhookAdminForm
    sync_resource = "webhooks"
    synced_form_fields = ("name", "uri", "status", "new_secret", "generate_secret")
    list_display = ("name", "uri", "status", "secret_state", "verified_at", "subscription_count", "sync_state")
    list_filter = ("status", "sync_state")
    search_fields = ("name", "uri", "bics_id")
    readonly_fields = ("secret_state", "token_state", "verified_at", "receiver_path")
    no_secret_warning = ("Without a secret this webhook refuses every callback. Tick 'Generate a new secret', "
                         "save, then push it to BICS (or use 'Connect this back-office').")
    actions = ["push_to_bics", "pull_from_bics", "connect_back_office"]

    @property
    def change_list_template(self):
        return engines["django"].from_string(CHANGE_LIST)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_subscriptions=Count("subscriptions"))

    @admin.display(description="Subscriptions", ordering="n_subscriptions")
    def subscription_count(self, obj):
        return obj.n_subscriptions

    @admin.display(description="Secret")
    def secret_state(self, obj):
        return MASK if obj.secret else "not set: callbacks refused"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        hook = self.get_object(request, object_id)
        if request.method == "GET" and hook is not None and not hook.secret:
            self.message_user(request, self.no_secret_warning, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and self.has_view_or_change_permission(request):
            without = Webhook.objects.filter(secret="").count()
            if without:
                self.message_user(request, f"{without} webhook(s) without a secret: their callbacks are refused. "
                                           + self.no_secret_warning, messages.WARNING)
        return super().changelist_view(request, extra_context)

    @admin.display(description="Verification token")
    def token_state(self, obj):
        return MASK if obj.token else "not set"

    @admin.display(description="Receiver path")
    def receiver_path(self, obj):
        return reverse("webhooks:receive", kwargs={"key": obj.slug}) if obj.slug else "-"

    def save_model(self, request, obj, form, change):
        shown = None
        if form.cleaned_data.get("generate_secret"):
            obj.secret = shown = secrets.token_urlsafe(32)
        elif form.cleaned_data.get("new_secret"):
            obj.secret = form.cleaned_data["new_secret"]
        if form.cleaned_data.get("new_token"):
            obj.token = form.cleaned_data["new_token"]
        super().save_model(request, obj, form, change)
        if shown:
            self.message_user(request, format_html(
                "New secret (shown once; it is sent to BICS when you push): <code>{}</code>", shown), messages.WARNING)

    def get_urls(self):
        return [path("connect/", self.admin_site.admin_view(self.connect_view), name="webhooks_webhook_connect"),
                *super().get_urls()]

    def _connect(self, request):
        if not self.has_change_permission(request) or not self.has_add_permission(request):
            self.message_user(request, "You may not change webhooks.", messages.ERROR)
            return
        try:
            result = connecting.webhook_connect()
        except Exception as exc:  # told to the staff member, without secrets
            self.message_user(request, f"Connect failed: {exc}", messages.ERROR)
            return
        self.message_user(request, format_html(
            "Webhook “{}” {} at BICS ({}); {} new subscription(s). Secret (shown once): <code>{}</code>",
            result.webhook.name, "created" if result.created else "repaired", result.webhook.uri,
            len(result.subscribed), result.secret), messages.SUCCESS)
        for failure in result.failures:
            self.message_user(request, f"Subscription refused: {failure}", messages.ERROR)

    def connect_view(self, request):
        if not (self.has_change_permission(request) and self.has_add_permission(request)):
            raise PermissionDenied
        if request.method == "POST":
            self._connect(request)
            return HttpResponseRedirect(reverse("admin:webhooks_webhook_changelist"))
        from django.conf import settings

        context = {**self.admin_site.each_context(request), "title": "Connect this back-office",
                   "name": getattr(settings, "BICS_WEBHOOK_NAME", "BICS back-office"),
                   "url": settings.PUBLIC_BASE_URL.rstrip("/") + "/webhooks/bics/…/",
                   "events": connecting.HANDLED_EVENTS, "opts": self.model._meta}
        return TemplateResponse(request, engines["django"].from_string(CONNECT_PAGE), context)

    @admin.action(description="Connect this back-office (create or repair, subscribe every event)",
                  permissions=["change"])
    def connect_back_office(self, request, queryset):
        self._connect(request)


@admin.register(Subscription)
class SubscriptionAdmin(SyncedAdmin):
    sync_resource = "subscriptions"
    synced_form_fields = ("event", "identity", "webhook")
    list_display = ("event", "identity", "webhook", "sync_state", "synced_at")
    list_filter = ("event", "sync_state")
    list_select_related = ("webhook",)
    search_fields = ("event", "bics_id", "webhook__name")
    autocomplete_fields = ("webhook",)


class EventTypeFilter(admin.SimpleListFilter):
    """The documented event types: no ``DISTINCT`` over the events (no index on the type)."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [*WEBHOOK_EVENTS, (SMART_LINK_VISIT, "Smart Link visit")]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    show_full_result_count = False
    list_display = ("received_at", "event_type", "method", "state", "attempts", "short_error", "webhook")
    list_filter = ("state", EventTypeFilter)
    list_select_related = ("webhook",)
    search_fields = ("dedupe_key",)
    readonly_fields = ("webhook", "received_at", "event_type", "method", "payload", "raw", "dedupe_key", "state",
                       "attempts", "error", "result", "processed_at")
    actions = ["process_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description="Error")
    def short_error(self, obj):
        return (obj.error or "")[:120]

    @admin.action(description="Process again", permissions=["change"])
    def process_again(self, request, queryset):
        counts = webhook_services.webhook_events_reprocess(queryset=queryset)
        level = messages.ERROR if counts["failed"] else messages.SUCCESS
        self.message_user(request, f"Processed {counts['processed']}, failed again {counts['failed']}, "
                                   f"left alone {counts['skipped']} (already processed).", level)


@admin.register(InboundMessage)
class InboundMessageAdmin(MaskedNumbersMixin, admin.ModelAdmin):
    show_full_result_count = False
    masked_number_fields = ("from_number", "to_number")
    list_display = ("received_at", "channel", "from_number", "to_number", "text", "contact_link")
    list_filter = ("channel",)
    search_fields = ("from_number", "text")
    readonly_fields = ("event", "channel", "from_number", "to_number", "text", "bics_id", "received_at", "contact")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contact")

    def has_add_permission(self, request):
        return False

    @admin.display(description="Contact")
    def contact_link(self, obj):
        if not obj.contact_id:
            return "-"
        return format_html('<a href="{}">contact #{}</a>',
                           reverse("admin:contacts_contact_change", args=[obj.contact_id]), obj.contact_id)
