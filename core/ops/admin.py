"""The Contact admin action "Erase personal data (on request)"; `OpsConfig.ready()` contributes
it to the Contact admin (core.admin_actions)."""

from django.contrib import admin, messages

from core.ops.retention import contact_erase


@admin.action(description="Erase personal data (on request) and delete", permissions=["delete"])
def erase_personal_data(modeladmin, request, queryset):
    done = 0
    for contact in queryset.iterator(chunk_size=200):
        result = contact_erase(contact=contact)
        done += 1
        touched = sum(result.counts.values())
    if done:
        modeladmin.message_user(
            request,
            f"{done} contact(s) erased: their numbers are masked and texts blanked in messages, DLRs, calls, "
            f"OTP requests and import rows ({touched if done == 1 else 'all'} record(s) for the last one); "
            "counts are kept, opt-outs too.",
            messages.SUCCESS,
        )
