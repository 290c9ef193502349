"""django-tables2 tables and django-filter filters of the campaign pages."""

import django_filters
import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from core.masking import number_for
from messaging.campaigns.models import Campaign, Message, MessageStatus

FAILURES = ("failed", "rejected", "expired")


class MessageFilter(django_filters.FilterSet):
    """One compact row above the messages: a single status (or every failure at once)."""

    number = django_filters.CharFilter(lookup_expr="icontains", label="Number contains")
    status = django_filters.ChoiceFilter(
        choices=[("failures", "Failed, rejected or expired"), *MessageStatus.choices],
        method="filter_status", empty_label="Any status")
    error_code = django_filters.CharFilter(label="Error code")
    is_sample = django_filters.BooleanFilter(label="Smart delivery sample")

    class Meta:
        model = Message
        fields = ("number", "status", "error_code", "is_sample")

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=FAILURES) if value == "failures" else queryset.filter(status=value)


class MessageTable(tables.Table):
    class Meta:
        model = Message
        fields = ("number", "status", "bics_status", "error_code", "error_description", "parts", "price",
                  "custom_id", "bics_message_id", "submitted_at", "delivered_at")
        attrs = {"class": "campaign-table"}
        order_by = ("pk",)

    def __init__(self, *args, currency: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if currency:  # a cost always says its currency
            self.columns["price"].column.verbose_name = f"Charged ({currency})"

    def render_number(self, value):
        # RequestConfig sets table.request; without one (no user) the number stays masked.
        request = getattr(self, "request", None)
        return number_for(getattr(request, "user", None), value)


EXPORT_FIELDS = ("number", "status", "bics_status", "error_code", "error_description", "parts", "price",
                 "custom_id", "bics_message_id", "group_id", "submitted_at", "delivered_at")


class CampaignFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    state = django_filters.ChoiceFilter(choices=Campaign.State.choices)

    class Meta:
        model = Campaign
        fields = ("name", "state", "channel")


class CampaignTable(tables.Table):
    name = tables.Column(linkify=lambda record: reverse("campaigns:detail", args=[record.pk]))
    delivery_rate = tables.Column(empty_values=(), orderable=False, verbose_name="Delivery rate")

    class Meta:
        model = Campaign
        fields = ("id", "name", "channel", "state", "scheduled_at", "launched_at", "audience_size")
        attrs = {"class": "campaign-table"}
        order_by = ("-id",)

    def render_delivery_rate(self, record):
        rate = getattr(record, "rate", None)
        return "—" if rate is None else format_html("{} %", rate)
