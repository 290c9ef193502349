import json

from django import forms

from contacts.conditions import CONDITION_FIELDS, OPS, validate_conditions
from contacts.models import Contact, ContactImport, Segment, Tag, TagOperator
from core.tabular import TableRefused, open_upload


def check_upload(upload) -> str:
    """Refuses a file that cannot be imported as a whole; returns a description ('CSV...')."""
    with open_upload(upload) as table:
        return table.description


class ContactImportForm(forms.ModelForm):
    class Meta:
        model = ContactImport
        fields = ["file", "default_country", "tag"]
        help_texts = {
            "file": "CSV (UTF-8, comma, semicolon or tab separated) or XLSX. The first row names "
            "the columns: phone (required), first_name, last_name, email, tags (separated by ;); "
            "any other column becomes an attribute.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "file" in self.fields:  # the change page shows everything read-only
            self.fields["file"].required = True

    def clean_default_country(self):
        value = self.cleaned_data["default_country"].strip().upper()
        if value:
            import phonenumbers

            if value not in phonenumbers.SUPPORTED_REGIONS:
                raise forms.ValidationError("Give an ISO country code such as BE, FR or NL.")
        return value

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_upload(upload)
        except TableRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload


class ConditionsWidget(forms.Textarea):
    def format_value(self, value):
        if isinstance(value, list | dict):
            return json.dumps(value, indent=1)
        return super().format_value(value)


def conditions_help() -> str:
    fields = ", ".join(CONDITION_FIELDS)
    ops = ", ".join(f"{k} ({v})" for k, v in OPS.items())
    return (
        "Local conditions, ANDed (a segment with any is local only: BICS documents tag rules "
        f"only). A JSON list such as "
        '[{"field": "country", "op": "in", "value": ["BE", "NL"]}, '
        '{"field": "birth_date", "op": "between", "value": ["1980-01-01", "1989-12-31"]}, '
        '{"field": "attribute", "key": "city", "op": "eq", "value": "Gent"}]. '
        f"Fields: {fields}. Operators: {ops}."
    )


class SegmentForm(forms.ModelForm):
    conditions = forms.JSONField(
        required=False, widget=ConditionsWidget(attrs={"rows": 4, "cols": 80}), initial=list
    )

    class Meta:
        model = Segment
        fields = [
            "name",
            "positive_tags_operator",
            "positive_tags",
            "negative_tags_operator",
            "negative_tags",
            "conditions",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conditions"].help_text = conditions_help()
        # segment_editor.js builds condition rows from these and writes the JSON back.
        self.fields["conditions"].widget.attrs.update(
            {
                "data-fields": json.dumps({name: list(spec[1]) for name, spec in CONDITION_FIELDS.items()}),
                "data-ops": json.dumps(OPS),
            }
        )

    def clean_conditions(self):
        try:
            return validate_conditions(self.cleaned_data.get("conditions") or [])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class SegmentPreviewForm(forms.Form):
    """The editor's unsaved rules, for the live count."""

    positive_tags = forms.ModelMultipleChoiceField(Tag.objects.all(), required=False)
    positive_tags_operator = forms.ChoiceField(choices=TagOperator.choices, required=False)
    negative_tags = forms.ModelMultipleChoiceField(Tag.objects.all(), required=False)
    negative_tags_operator = forms.ChoiceField(choices=TagOperator.choices, required=False)
    conditions = forms.JSONField(required=False)

    def clean_conditions(self):
        try:
            return validate_conditions(self.cleaned_data.get("conditions") or [])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class TagActionForm(forms.Form):
    tag = forms.CharField(max_length=100, help_text="An existing tag, or a new one.")


class UntagActionForm(forms.Form):
    tag = forms.ModelChoiceField(Tag.objects.all())


__all__ = [
    "Contact",
    "ContactImportForm",
    "SegmentForm",
    "SegmentPreviewForm",
    "TagActionForm",
    "UntagActionForm",
    "check_upload",
]
