"""Voice in the admin: calls, bulk calls (launch, watch per-recipient statuses), sound files,
reports, opt-outs (the seven documented operations) and prices. Actions hand querysets to
``voice.services`` and turn the result into a message. "Call this contact" is offered on the
contacts admin through ``core.admin_actions`` (registered in ``VoiceConfig.ready``)."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from voice.admin import bulk, calls, reports, unsubscribers  # noqa: F401 - they register the models


@admin.action(description="Call this contact (click-to-call)")
def call_this_contact(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one contact to call.", messages.WARNING)
        return None
    contact = queryset.first()
    return HttpResponseRedirect(reverse("voice:click2call") + f"?contact={contact.pk}")
