"""django-tables2 tables and django-filter filters for the voice reports."""

import django_filters
import django_tables2 as tables
from django.utils.html import format_html

from voice.models import CallLog, CallRecording, CallStatus


class CallLogFilter(django_filters.FilterSet):
    to = django_filters.CharFilter(label="Number", lookup_expr="icontains")
    status = django_filters.ChoiceFilter(choices=CallStatus.choices)
    end_after = django_filters.DateFilter(field_name="end_at", lookup_expr="date__gte", label="Ended from")
    end_before = django_filters.DateFilter(field_name="end_at", lookup_expr="date__lte", label="Ended until")

    class Meta:
        model = CallLog
        fields = ("to", "status", "end_after", "end_before")


class CallLogTable(tables.Table):
    class Meta:
        model = CallLog
        fields = ("end_at", "start_at", "to", "caller_id", "bridge", "status", "duration", "billing",
                  "hangup_by", "country")
        attrs = {"class": "voice-table"}
        order_by = ("-end_at",)


class RecordingFilter(django_filters.FilterSet):
    call_id = django_filters.CharFilter(label="Call id")
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="From")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="Until")

    class Meta:
        model = CallRecording
        fields = ("call_id", "created_after", "created_before")


class RecordingTable(tables.Table):
    url = tables.Column(verbose_name="Recording", orderable=False)

    class Meta:
        model = CallRecording
        fields = ("created_at", "call_id", "duration", "url")
        attrs = {"class": "voice-table"}
        order_by = ("-created_at",)

    def render_url(self, value):
        return format_html('<audio controls preload="none" src="{}"></audio> <a href="{}">download</a>', value, value)
