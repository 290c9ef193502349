"""Forms: the template admin form (rules named on failure), import, clean, reject."""

from __future__ import annotations

import json

from django import forms
from django.urls import reverse_lazy

from messaging.catalogue import rules
from messaging.catalogue.models import Channel, Template

WHATSAPP_EDIT_NOTE = (
    "WhatsApp has no documented edit or view-by-id for templates: pushing a change to a "
    "WhatsApp template that is already at BICS deletes it there and creates it again "
    "(new id; Meta reviews it again)."
)
PAYLOAD_HELP = (
    "What the channel adds, as JSON. WhatsApp: {\"category\": \"marketing|utility|authentication\", "
    "\"language\": \"en|en_US\", \"number\": \"+32…\", \"type\": \"text|JSON|media|template\", "
    "\"is_conversation\": true, \"media\": {\"kind\": \"image\", \"url\": \"…\", \"size\": 1234, "
    "\"mime\": \"image/png\"}, \"buttons\": [{\"type\": \"reply\", \"text\": \"…\"}]}. "
    "Viber: {\"category\": \"transactional|promotional|session\", \"method\": \"transaction_text\", "
    "\"message\": {…}}. SMS: leave empty. " + WHATSAPP_EDIT_NOTE
)


class TemplateAdminForm(forms.ModelForm):
    class Meta:
        model = Template
        fields = ("channel", "name", "content", "sender", "template_type", "message_type", "is_english",
                  "consent_template", "channel_payload")
        widgets = {
            "content": forms.Textarea(attrs={"rows": 5, "cols": 80, "data-preview-url":
                                             reverse_lazy("messaging:template-preview")}),
            "channel_payload": forms.Textarea(attrs={"rows": 6, "cols": 80}),
        }
        help_texts = {"channel_payload": PAYLOAD_HELP}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        sender = data.get("sender")
        facts = rules.TemplateFacts(
            channel=data.get("channel") or Channel.SMS, content=data.get("content") or "",
            name=data.get("name") or "", template_type=data.get("template_type") or "",
            message_type=data.get("message_type") or "A",
            sender_name=sender.name if sender else "", sender_numeric=sender.is_numeric if sender else None,
            has_consent_template=bool(data.get("consent_template")),
            channel_payload=data.get("channel_payload") or {},
        )
        results = rules.check(facts)
        content_rules = [str(r) for r in rules.errors(results) if not r.code.startswith(("wa-", "viber-"))]
        payload_rules = [str(r) for r in rules.errors(results) if r.code.startswith(("wa-", "viber-"))]
        if content_rules:
            self.add_error("content", content_rules)
        if payload_rules:
            self.add_error("channel_payload", payload_rules)
        if facts.channel == Channel.SMS and not sender:
            self.add_error("sender", "[sender-required] SMS templates need a sender.")
        if facts.channel == Channel.SMS and not data.get("template_type"):
            self.add_error("template_type", "[type-required] Choose the SMS template type.")
        self.rule_warnings = rules.warnings(results)
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), required=True,
                             help_text="Shown to the author.")


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, TXT or XLSX, first row is the header.")
    channel = forms.ChoiceField(choices=Channel.choices, required=False,
                                help_text="Used for rows without a channel column.")

    def __init__(self, *args, channel_choice: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not channel_choice:
            del self.fields["channel"]


class CleanConfirmForm(forms.Form):
    kind = forms.ChoiceField(choices=(), required=False, label="Channel")
    confirmation = forms.CharField(help_text="Type the phrase shown above, exactly.")

    def __init__(self, *args, kinds=("",), **kwargs):
        super().__init__(*args, **kwargs)
        if kinds == [""] or kinds == ("",):
            del self.fields["kind"]
        else:
            self.fields["kind"].choices = [(k, dict(Channel.choices)[k]) for k in kinds]
            self.fields["kind"].required = True


class PreviewForm(forms.Form):
    """Input of the live preview JSON view."""

    channel = forms.ChoiceField(choices=Channel.choices, required=False)
    content = forms.CharField(required=False, strip=False)
    name = forms.CharField(required=False)
    template_type = forms.CharField(required=False)
    message_type = forms.CharField(required=False)
    sender = forms.IntegerField(required=False)
    consent_template = forms.CharField(required=False)
    channel_payload = forms.CharField(required=False)

    def payload(self) -> dict:
        try:
            value = json.loads(self.cleaned_data.get("channel_payload") or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
