"""Admin pieces shared by the apps."""

from django import forms
from django.contrib.admin import helpers

from core.masking import can_view_full_numbers, mask_number


class MaskedNumbersMixin:
    """Shows the `masked_number_fields` of the changelist masked to staff without
    `core.view_full_numbers`. The change form keeps the whole number: editing needs it."""

    masked_number_fields: tuple[str, ...] = ("number",)

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        if can_view_full_numbers(request.user):
            return fields
        return [self._masked_column(f) if f in self.masked_number_fields else f for f in fields]

    @staticmethod
    def _masked_column(name: str):
        def column(obj):
            return mask_number(getattr(obj, name) or "")

        column.short_description = name.replace("_", " ").capitalize()
        column.admin_order_field = name
        return column

    def action_checkbox(self, obj):
        # Django labels the checkbox with str(obj), which carries the number: use the id.
        label = f"Select {self.opts.verbose_name} {obj.pk} for an action"
        checkbox = forms.CheckboxInput({"class": "action-select", "aria-label": label}, lambda value: False)
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, str(obj.pk))
