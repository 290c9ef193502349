"""Voice in the admin: calls, bulk calls (launch, watch per-recipient statuses), sound files,
reports, opt-outs (the seven documented operations) and prices. Actions hand querysets to
``voice.services`` and turn the result into a message."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from voice.admin import bulk, calls, reports, unsubscribers  # noqa: F401 - they register the models
from voice.admin.base import ReadOnlyAdmin

__all__ = ["ReadOnlyAdmin"]


@admin.action(description="Call this contact (click-to-call)")
def call_this_contact(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one contact to call.", messages.WARNING)
        return None
    contact = queryset.first()
    return HttpResponseRedirect(reverse("voice:click2call") + f"?contact={contact.pk}")


def _extend_contact_admin() -> None:
    """Add "Call this contact" to the registered Contact admin (contacts stays untouched)."""
    try:
        import contacts.admin  # noqa: F401 - make sure it registered first
        from contacts.models import Contact
    except ImportError:
        return
    registered = admin.site._registry.get(Contact)  # noqa: SLF001
    if registered is not None and call_this_contact not in (registered.actions or ()):
        registered.actions = (*(registered.actions or ()), call_this_contact)


_extend_contact_admin()
