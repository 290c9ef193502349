"""django-tables2 tables of the staff dashboard (small, unpaginated: each is a short list)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from core.masking import number_for


class ChannelVolumeTable(tables.Table):
    label = tables.Column(verbose_name="Channel", orderable=False)
    today = tables.Column(
        verbose_name="Today", orderable=False, attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    month = tables.Column(
        verbose_name="This month", orderable=False, attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    rate = tables.Column(
        verbose_name="Delivery rate (month)",
        orderable=False,
        default="—",
        attrs={"td": {"class": "num"}, "th": {"class": "num"}},
    )

    class Meta:
        attrs = {"class": "staff-table", "id": "volumes"}

    def render_rate(self, value):
        return f"{value} %"


class ActiveCampaignTable(tables.Table):
    name = tables.Column(verbose_name="Campaign", orderable=False)
    state = tables.Column(verbose_name="State", orderable=False)
    scheduled_at = tables.DateTimeColumn(verbose_name="Scheduled for", orderable=False, default="now")
    total = tables.Column(
        verbose_name="Recipients", orderable=False, attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    progress = tables.Column(verbose_name="Progress", orderable=False, empty_values=())
    delivery_rate = tables.Column(
        verbose_name="Delivery rate",
        orderable=False,
        default="—",
        attrs={"td": {"class": "num"}, "th": {"class": "num"}},
    )

    class Meta:
        attrs = {"class": "staff-table", "id": "active-campaigns"}
        empty_text = "No campaign is scheduled or sending."

    def render_name(self, record):
        return format_html('<a href="{}">{}</a>', reverse("campaigns:detail", args=[record.pk]), record.name)

    def render_state(self, record):
        return format_html('<span class="state state-{}">{}</span>', record.state, record.get_state_display())

    def render_progress(self, record):
        live = record.state in ("sampling", "sending")
        return format_html(
            '<span class="live-progress"{}><progress max="100" value="{}" aria-label="Progress of {}">'
            '{} %</progress> <span class="pct">{} %</span></span>',
            format_html(' data-url="{}"', reverse("campaigns:progress", args=[record.pk])) if live else "",
            record.progress,
            record.name,
            record.progress,
            record.progress,
        )

    def render_delivery_rate(self, value):
        return f"{value} %"


class TemplateTable(tables.Table):
    name = tables.Column(verbose_name="Template", orderable=False)
    channel = tables.Column(orderable=False)
    author = tables.Column(orderable=False, default="—")
    submitted_at = tables.DateTimeColumn(verbose_name="Waiting since", orderable=False, default="—")

    class Meta:
        attrs = {"class": "staff-table", "id": "templates-waiting"}
        empty_text = "No template is waiting for approval."

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def render_name(self, record):
        url = reverse("admin:messaging_template_change", args=[record.pk])
        own = " (yours: another approver decides)" if self.user and record.author_id == self.user.pk else ""
        return format_html('<a href="{}">{}</a>{}', url, record.name, own)


class RejectedTemplateTable(tables.Table):
    name = tables.Column(verbose_name="Template", orderable=False)
    channel = tables.Column(orderable=False)
    rejection_reason = tables.Column(verbose_name="Why it was rejected", orderable=False)

    class Meta:
        attrs = {"class": "staff-table", "id": "templates-rejected"}
        empty_text = "None of your templates is rejected."

    def render_name(self, record):
        url = reverse("admin:messaging_template_change", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, record.name)


class FailureTable(tables.Table):
    status_at = tables.DateTimeColumn(verbose_name="When", orderable=False, default="—")
    number = tables.Column(orderable=False)
    campaign = tables.Column(orderable=False, default="one-off")
    bics_status = tables.Column(verbose_name="Status", orderable=False, default="—")
    error_code = tables.Column(verbose_name="Code", orderable=False, default="—")
    reason = tables.Column(verbose_name="Reason (DLR code table)", orderable=False, empty_values=())

    class Meta:
        attrs = {"class": "staff-table", "id": "failures"}
        empty_text = "No failed message in the last 7 days."

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def render_number(self, value):
        return number_for(self.user, value)

    def render_campaign(self, record):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("campaigns:detail", args=[record.campaign_id]),
            record.campaign.name,
        )

    def render_reason(self, record):
        return record.reason or "—"
