"""Forms of the campaign wizard: audience, template and variables, schedule and delivery.

Each form says what is wrong in plain words; the rules themselves (usability, schedule
limits, exclusions, cost) stay in ``messaging.campaigns.services.campaigns`` and its selectors.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.utils import timezone

from messaging.campaigns import selectors as sel
from messaging.campaigns.wizard.click_condition import add_click_field
from messaging.catalogue.models import Channel, Sender, Template
from messaging.catalogue.services.templates import templates_for_choice

CHANNELS = [(Channel.SMS, "SMS"), (Channel.WHATSAPP, "WhatsApp"), (Channel.VIBER, "Viber")]
ATTRIBUTE, FIXED = "attribute", "fixed"
SOURCE_CHOICES = [
    *[(name, f"Contact: {name.replace('_', ' ')}") for name in sel.CONTACT_FIELDS],
    (ATTRIBUTE, "Contact attribute (name it below)"),
    (FIXED, "The same text for everyone (write it below)"),
]


class SearchableMultiple(AutocompleteSelectMultiple):
    """The admin's autocomplete multi-select with a placeholder (the admin's sets an empty one)."""

    def __init__(self, field, admin_site, *, placeholder: str):
        super().__init__(field, admin_site, attrs={"style": "width: 100%; max-width: 40rem"})
        self.placeholder = placeholder

    def build_attrs(self, base_attrs, extra_attrs=None):
        return {**super().build_attrs(base_attrs, extra_attrs), "data-placeholder": self.placeholder}


class AudienceForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        label="Campaign name",
        help_text="For you and your colleagues; recipients never see it.",
    )
    channel = forms.ChoiceField(choices=CHANNELS, initial=Channel.SMS)
    segments = forms.ModelMultipleChoiceField(
        queryset=None, required=False, help_text="Everyone matching any chosen segment."
    )
    tags = forms.ModelMultipleChoiceField(
        queryset=None, required=False, help_text="Everyone carrying any chosen tag."
    )

    def __init__(self, *args, **kwargs):
        from django.contrib import admin

        from contacts.models import Segment, Tag
        from messaging.campaigns.models import Campaign

        super().__init__(*args, **kwargs)
        # The admin's searchable multi-select (select2, served by the admin's autocomplete view):
        # type to find a segment or tag among thousands, no Ctrl-click.
        for name, what in (("segments", "segments"), ("tags", "tags")):
            self.fields[name].widget = SearchableMultiple(
                Campaign._meta.get_field(name), admin.site, placeholder=f"Type to search {what}")
        self.fields["segments"].queryset = Segment.objects.order_by("name")  # after the widget: its choices
        self.fields["tags"].queryset = Tag.objects.order_by("name")
        add_click_field(self)  # tracked links: "clicked / did not click campaign X" (wizard.click_condition)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the campaign a name.")
        return name

    def clean(self):
        data = super().clean()
        if not data.get("segments") and not data.get("tags"):
            raise forms.ValidationError(
                "Choose at least one segment or tag: the campaign needs people to send to."
            )
        return data


class TemplateStepForm(forms.Form):
    """The template (the usable ones of the campaign's channel: approved here and at BICS, not
    blocked), the SMS sender, and one pair of fields per template variable: where its value
    comes from, and a key, text or default. ``not_usable``: the other templates of the channel,
    each with what it waits for."""

    template = forms.ModelChoiceField(
        queryset=None,
        empty_label="Choose a template ready to send",
        error_messages={
            "required": "Choose the template to send.",
            "invalid_choice": "That template cannot be sent now (see why below the list): choose another.",
        },
    )
    sender = forms.ModelChoiceField(
        queryset=None, required=False, label="Sender ID (SMS)", help_text="Empty: the template's own sender."
    )

    def __init__(
        self, *args, channel: str, variables: list[str] | None = None, mapping: dict | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.channel = channel
        # Only templates one can send now; the others are listed with what they wait for.
        usable, self.not_usable = templates_for_choice(channel)
        self.fields["template"].queryset = (
            Template.objects.filter(pk__in=[t.pk for t in usable]).select_related("sender").order_by("name")
        )
        if channel == Channel.SMS:
            self.fields["sender"].queryset = Sender.objects.order_by("name")
        else:
            del self.fields["sender"]
        self.variables = list(variables or [])
        mapping = mapping or {}
        for name in self.variables:
            spec = mapping.get(name) or {}
            source, value = self._initial(name, spec)
            self.fields[f"var_{name}_source"] = forms.ChoiceField(
                choices=SOURCE_CHOICES, initial=source, label=f"Value of {{{{{name}}}}} comes from"
            )
            self.fields[f"var_{name}_value"] = forms.CharField(
                required=False,
                initial=value,
                max_length=200,
                label=f"Attribute, text or default for {{{{{name}}}}}",
                help_text="Attribute: its name. Same text: the text. A contact field: a default when the "
                "contact has none (leave empty to skip such contacts).",
            )

    @staticmethod
    def _initial(name: str, spec) -> tuple[str, str]:
        if isinstance(spec, str):
            spec = {"field": spec}
        if "value" in spec:
            return FIXED, str(spec["value"])
        field = spec.get("field") or (name if name in sel.CONTACT_FIELDS else f"attributes.{name}")
        if field.startswith("attributes."):
            return ATTRIBUTE, field.split(".", 1)[1]
        return field, str(spec.get("default") or "")

    def variable_rows(self):
        return [(name, self[f"var_{name}_source"], self[f"var_{name}_value"]) for name in self.variables]

    def clean(self):
        data = super().clean()
        template = data.get("template")
        if template is not None and self.channel == Channel.SMS:
            if not (data.get("sender") or template.sender_id):
                self.add_error(
                    "sender", "SMS campaigns need a sender ID: this template has none, so choose one."
                )
        mapping = {}
        for name in self.variables:
            source = data.get(f"var_{name}_source")
            value = (data.get(f"var_{name}_value") or "").strip()
            if source == FIXED:
                if not value:
                    self.add_error(f"var_{name}_value", f"Write the text that replaces {{{{{name}}}}}.")
                elif len(value) > sel.VARIABLE_LIMIT:
                    self.add_error(
                        f"var_{name}_value",
                        f"Keep {{{{{name}}}}} to {sel.VARIABLE_LIMIT} characters "
                        f"or less: operators reject longer variables (code 783).",
                    )
                mapping[name] = {"value": value}
            elif source == ATTRIBUTE:
                if not value:
                    self.add_error(
                        f"var_{name}_value", f"Name the contact attribute that fills {{{{{name}}}}}."
                    )
                mapping[name] = {"field": f"attributes.{value}", "skip": True}
            elif source:
                mapping[name] = {"field": source, "default": value, "skip": not value}
        data["variable_mapping"] = mapping
        return data


class ScheduleStepForm(forms.Form):
    WHEN = [("now", "As soon as I launch"), ("later", "At a date and time")]

    when = forms.ChoiceField(choices=WHEN, widget=forms.RadioSelect, initial="now", label="When to send")
    at = forms.DateTimeField(
        required=False,
        label="Date and time (your time zone)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Write the date and time as YYYY-MM-DD HH:MM."},
    )
    batch_size = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1000,
        label="Recipients per batch",
        help_text="Empty: the default. At most 1000 numbers per request.",
        error_messages={
            "max_value": "A batch holds at most 1000 recipients.",
            "min_value": "A batch holds at least one recipient.",
        },
    )
    batch_interval = forms.IntegerField(
        min_value=0,
        max_value=86400,
        initial=0,
        label="Seconds between batches",
        error_messages={
            "min_value": "The pause between batches cannot be negative.",
            "max_value": "Keep the pause between batches under a day.",
        },
    )
    validity_hours = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=30 * 24,
        label="Validity (hours)",
        help_text="Messages not sent this long after the launch are not sent at all, e.g. when a "
        "sending window opens too late. Empty: no limit.",
        error_messages={"min_value": "A validity is at least one hour.",
                        "max_value": "A validity is at most 720 hours (30 days)."},
    )
    traffic = forms.ChoiceField(
        required=False,
        widget=forms.RadioSelect,
        label="Kind of traffic",
        help_text="Sending windows are set per kind; the frequency cap counts promotional messages only. "
        "Transactional: what the recipient expects (order updates, reminders, codes).",
    )
    smart_delivery = forms.BooleanField(
        required=False,
        label="Smart delivery: send to a sample first",
        help_text="The campaign is cancelled if the sample is rejected by DLT rules.",
    )
    smart_sample_size = forms.IntegerField(
        min_value=1,
        max_value=1000,
        initial=10,
        label="Sample size",
        error_messages={"min_value": "The sample needs at least one recipient."},
    )
    smart_wait_minutes = forms.IntegerField(
        min_value=1, max_value=1440, initial=30, label="Minutes to wait for the sample's delivery reports"
    )

    def __init__(self, *args, zone=None, now=None, max_days: int = 30, template_traffic: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        from messaging.campaigns.models import Campaign

        choices = list(Campaign._meta.get_field("traffic").choices)
        if template_traffic:  # say what "from the template" means for this template
            choices[0] = ("", f"As the template says: {template_traffic}")
        self.fields["traffic"].choices = choices
        self.zone = zone
        self.now = now or timezone.now()
        self.max_days = max_days

    def clean(self):
        data = super().clean()
        at = data.get("at")
        if data.get("when") == "later":
            if at is None and "at" not in self.errors:
                self.add_error("at", 'Choose the date and time to send, or choose "As soon as I launch".')
            elif at is not None:
                if self.zone is not None:  # the wall time the user typed, in their zone
                    at = (timezone.make_naive(at) if timezone.is_aware(at) else at).replace(tzinfo=self.zone)
                if at <= self.now:
                    self.add_error("at", "That time is in the past: choose a time after now.")
                elif at > self.now + timedelta(days=self.max_days):
                    self.add_error("at", f"Campaigns can be scheduled at most {self.max_days} days ahead.")
                data["at"] = at
        else:
            data["at"] = None
        if (
            data.get("smart_delivery")
            and data.get("smart_sample_size") is None
            and "smart_sample_size" not in self.errors
        ):
            self.add_error("smart_sample_size", "Smart delivery needs a sample size.")
        return data
