"""Forms of the campaign pages: schedule, test send, one-off send."""

from django import forms

from messaging.catalogue.models import Sender, Template


class ScheduleForm(forms.Form):
    at = forms.DateTimeField(label="Send at (your time zone)",
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class TestSendForm(forms.Form):
    numbers = forms.CharField(label="Numbers", help_text="E.164, one per line or comma separated: numbers of the "
                              "staff test list (CAMPAIGN_TEST_NUMBERS) when there is one, at most "
                              "CAMPAIGN_TEST_MAX_NUMBERS of them.", widget=forms.Textarea(attrs={"rows": 3}))

    def clean_numbers(self):
        from core.phones import normalise_phone

        out = []
        for raw in self.cleaned_data["numbers"].replace(",", "\n").splitlines():
            if raw.strip():
                try:
                    out.append(normalise_phone(raw.strip())[0])
                except ValueError as exc:
                    raise forms.ValidationError(str(exc)) from exc
        if not out:
            raise forms.ValidationError("Give at least one number.")
        return out


class OneOffForm(forms.Form):
    """A single message: a usable template with its variables, or free text (SMS, for users
    with ``campaigns.send_free_text``; superusers have every permission)."""

    channel = forms.ChoiceField(choices=[("sms", "SMS"), ("whatsapp", "WhatsApp"), ("viber", "Viber")])
    number = forms.CharField(help_text="E.164, e.g. +32470123456.")
    template = forms.ModelChoiceField(queryset=Template.objects.filter(approval_state="approved"), required=False)
    variables = forms.CharField(required=False, help_text="name=value, one per line.",
                                widget=forms.Textarea(attrs={"rows": 3}))
    text = forms.CharField(required=False, label="Free text (SMS)", widget=forms.Textarea(attrs={"rows": 3}))
    sender = forms.ModelChoiceField(queryset=Sender.objects.all(), required=False)
    type = forms.ChoiceField(choices=[("A", "A · auto"), ("N", "N · normal"), ("U", "U · unicode")], initial="A")
    flash = forms.BooleanField(required=False)
    max_units = forms.IntegerField(required=False, min_value=1)
    port = forms.CharField(required=False)
    time = forms.DateTimeField(required=False, help_text="Schedule at BICS (≤ 30 days ahead).",
                               widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_number(self):
        from core.phones import normalise_phone

        try:
            return normalise_phone(self.cleaned_data["number"])[0]
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        data = super().clean()
        if not data.get("template") and not data.get("text"):
            raise forms.ValidationError("Choose a template or write a free text.")
        if data.get("text") and not data.get("template"):
            if data.get("channel") != "sms":
                raise forms.ValidationError("Free text is for SMS; WhatsApp and Viber send templates.")
            user = self.user
            if not (user and user.has_perm("campaigns.send_free_text")):
                raise forms.ValidationError("You may only send approved templates (free text needs the "
                                            "\"Can send a one-off free-text SMS\" permission).")
        variables = {}
        for line in (data.get("variables") or "").splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                variables[key.strip()] = value.strip()
        data["variables"] = variables
        return data
