from django import forms

from verify import services
from verify.models import Channel


class SendTestOtpForm(forms.Form):
    number = forms.CharField(max_length=32, help_text="International format, e.g. +32470123456.")
    channels = forms.CharField(
        max_length=100,
        help_text="Failover order, comma-separated: " + ", ".join(Channel.values) + ".",
    )
    reference = forms.CharField(max_length=100, required=False)

    def clean_number(self):
        try:
            return services.normalise_number(self.cleaned_data["number"])
        except services.InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_channels(self):
        try:
            return services.normalise_channels(self.cleaned_data["channels"])
        except services.InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from exc


class CheckCodeForm(forms.Form):
    code = forms.CharField(max_length=16)

    def clean_code(self):
        try:
            return services.validate_token(self.cleaned_data["code"])
        except services.InvalidInput as exc:
            raise forms.ValidationError(str(exc)) from exc
