"""Forms for the voice admin and staff pages."""

from __future__ import annotations

import json

from django import forms

from core.phones import PhoneError, normalise_phone
from voice.data.voice_ids import VOICE_CHOICES
from voice.models import BulkCall, Call, RetryInterval, SoundFile, VoiceUnsubscriber

TTS_MANY_RECIPIENTS = (
    "Text-to-speech calls go to one recipient each (as documented). To reach many people, "
    "use a bulk call on an IVR flow with variables (Voice › Bulk calls)."
)
BREAK_HELP = 'Pauses: write <break time="1s"/> in the text (up to 10s).'


class PhoneField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return normalise_phone(value)[0]
        except PhoneError as exc:
            raise forms.ValidationError(f"Enter a number with its country code, e.g. +32470123456 ({exc}).") from None


class JSONDictField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False) if value else ""
        return value

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return {}
        try:
            data = json.loads(value)
        except ValueError as exc:
            raise forms.ValidationError("Enter a JSON object, e.g. {\"Name\": \"Ann\"}.") from exc
        if not isinstance(data, dict):
            raise forms.ValidationError("Enter a JSON object.")
        return data


class CallForm(forms.ModelForm):
    """One outgoing call in any documented variant (IVR flow, audio file, audio id, variables)."""

    bridge = PhoneField(help_text="Bridge (DID) number of your account.")
    to = PhoneField(help_text="Recipient with the country code.")
    variables = JSONDictField(required=False, help_text='For "IVR flow id with variables": {"Name": "Ann", "otp": "1234"}.')
    audio_url = forms.URLField(required=False, max_length=500, assume_scheme="https",
                               help_text="Audio file variant: a public http(s) URL.")

    class Meta:
        model = Call
        fields = ("kind", "bridge", "to", "name", "flow_id", "variables", "audio_url", "sound_file",
                  "interval", "webhook_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:  # absent when the admin shows a sent call read-only
            self.fields["kind"].choices = [c for c in Call.Kind.choices
                                           if c[0] not in (Call.Kind.TTS, Call.Kind.CLICK2CALL)]
        if "sound_file" in self.fields:
            self.fields["sound_file"].queryset = SoundFile.objects.exclude(bics_id="")
        if "interval" in self.fields:
            self.fields["interval"].choices = RetryInterval.choices

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (Call.Kind.FLOW, Call.Kind.FLOW_VARIABLES) and not data.get("flow_id"):
            self.add_error("flow_id", "An IVR flow id is required for this variant.")
        if kind == Call.Kind.FLOW_VARIABLES and not data.get("variables"):
            self.add_error("variables", "Give the variables of the flow's play widget.")
        if kind == Call.Kind.AUDIO_FILE and not (data.get("audio_url") or data.get("sound_file")):
            self.add_error("audio_url", "Give a public audio URL (or choose a sound file).")
        if kind == Call.Kind.AUDIO_ID and not data.get("sound_file"):
            self.add_error("sound_file", "Choose a sound file created at BICS.")
        return data


class TtsCallForm(forms.ModelForm):
    bridge = PhoneField(help_text="Bridge (DID) number of your account.")
    to = PhoneField(help_text="One recipient with the country code. " + TTS_MANY_RECIPIENTS)
    voice_id = forms.ChoiceField(choices=[("", "Default voice")] + VOICE_CHOICES, required=False,
                                 label="Voice", help_text="AWS Polly voices: language and gender.")
    repetitions = forms.IntegerField(min_value=1, max_value=5, required=False,
                                     help_text="How many times the text is played (iteration).")

    class Meta:
        model = Call
        fields = ("bridge", "to", "tts_text", "voice_id", "repetitions")
        widgets = {"tts_text": forms.Textarea(attrs={"rows": 5, "maxlength": 3000, "data-length-preview": "1"})}
        help_texts = {"tts_text": BREAK_HELP}

    def clean_tts_text(self):
        text = self.cleaned_data["tts_text"].strip()
        if not text:
            raise forms.ValidationError("Write the text to speak.")
        return text

    def options(self) -> dict:
        reps = self.cleaned_data.get("repetitions")
        return {"iteration": reps} if reps and reps > 1 else {}


class Click2CallForm(forms.ModelForm):
    bridge = PhoneField(help_text="DID number of your account.")
    from_number = PhoneField(label="From", help_text="Called first (e.g. the agent).")
    to = forms.CharField(help_text="The IVR flow to connect (documented), or a number with its country code.")
    attempts = forms.TypedChoiceField(choices=[(1, "1"), (2, "2")], coerce=int, initial=2,
                                      help_text="Redial attempts on unanswered calls (at most 2).")
    duration_limit = forms.CharField(required=False, label="Duration limit (minutes)",
                                     help_text='Blank = "none".')

    class Meta:
        model = Call
        fields = ("bridge", "from_number", "to", "record", "attempts", "duration_limit", "mid", "webhook_id")

    def clean_duration_limit(self):
        value = (self.cleaned_data.get("duration_limit") or "").strip()
        if value and not value.isdigit():
            raise forms.ValidationError("Whole minutes.")
        return value

    def clean_to(self):
        value = self.cleaned_data["to"].strip()
        if not value.startswith(("+", "00")):
            return value  # a flow id
        try:
            return normalise_phone(value)[0]
        except PhoneError as exc:
            raise forms.ValidationError(str(exc)) from None


class SoundFileForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", label="Public URL",
                         help_text="http(s), publicly reachable; it must answer with an audio/* content type.")

    class Meta:
        model = SoundFile
        fields = ("name", "url")

    def clean_url(self):
        from voice.services.sounds import SoundUrlError, sound_url_check

        url = self.cleaned_data["url"]
        try:
            check = sound_url_check(url)
        except SoundUrlError as exc:
            raise forms.ValidationError(str(exc)) from exc
        self.checked = check
        return url


class BulkCallForm(forms.ModelForm):
    bridge = PhoneField(help_text="Bridge (DID) number of your account.")
    variables = JSONDictField(required=False, help_text=(
        'Flow variables per recipient; contact fields in braces: {"Name": "{first_name}"}. '
        "Uploaded lists add their extra columns."))
    audio_url = forms.URLField(required=False, max_length=500, assume_scheme="https",
                               help_text="Same-audio option: a public http(s) URL.")

    class Meta:
        model = BulkCall
        fields = ("name", "mode", "bridge", "flow_id", "audio_url", "sound_file", "webhook_id",
                  "audience_kind", "segment", "tags", "upload", "variables", "batch_size")

    def clean(self):
        data = super().clean()
        mode, kind = data.get("mode"), data.get("audience_kind")
        if mode == BulkCall.Mode.FLOW_VARIABLES and not str(data.get("flow_id") or "").isdigit():
            self.add_error("flow_id", "A numeric IVR flow id is required for this option.")
        if mode == BulkCall.Mode.SAME_AUDIO and not (data.get("audio_url") or data.get("sound_file")):
            self.add_error("audio_url", "Give the audio URL played to everyone.")
        if mode == BulkCall.Mode.AUDIO_PER_RECIPIENT and kind != BulkCall.AudienceKind.UPLOAD:
            self.add_error("audience_kind", "An audio file per recipient needs an uploaded list with an audio column.")
        if kind == BulkCall.AudienceKind.SEGMENT and not data.get("segment"):
            self.add_error("segment", "Choose a segment.")
        if kind == BulkCall.AudienceKind.TAGS and not data.get("tags"):
            self.add_error("tags", "Choose at least one tag.")
        if kind == BulkCall.AudienceKind.UPLOAD and not data.get("upload"):
            self.add_error("upload", "Upload a CSV list.")
        return data


class StatusLookupForm(forms.Form):
    call_id = forms.CharField(required=False, label="Call id")
    cid = forms.CharField(required=False, label="Custom id")
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    mobile = PhoneField(required=False, label="Number")

    def clean(self):
        data = super().clean()
        if not any(data.get(k) for k in ("call_id", "cid", "date", "mobile")):
            raise forms.ValidationError("Give a call id, a custom id, a date or a number.")
        return data


class DateRangeForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data


class CleanUnsubscribersForm(forms.Form):
    confirmation = forms.CharField(help_text="Type the phrase shown above.")


class ImportUnsubscribersForm(forms.Form):
    file = forms.FileField(help_text="txt, csv, xls or xlsx; at most 100 MB.")

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".txt", ".csv", ".xls", ".xlsx")):
            raise forms.ValidationError("Supported file types: txt, csv, xls, xlsx.")
        if f.size > 100 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 100 MB.")
        return f


class VoiceUnsubscriberForm(forms.ModelForm):
    number = PhoneField()

    class Meta:
        model = VoiceUnsubscriber
        fields = ("number", "type", "value")
