"""Template helpers of the staff pages: ``{{ number|masked:request.user }}``."""

from django import template

from core.masking import number_for

register = template.Library()


@register.filter
def masked(number, user):
    """The number whole for staff with ``core.view_full_numbers``, else masked."""
    return number_for(user, str(number or ""))
