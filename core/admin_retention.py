"""The Contact admin action "Erase personal data (on request)" (core.retention), added from core."""

from django.contrib import admin, messages


@admin.action(description="Erase personal data (on request) and delete", permissions=["delete"])
def erase_personal_data(modeladmin, request, queryset):
    from core.retention import contact_erase

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


def _extend_contact_admin() -> None:
    try:
        import contacts.admin  # noqa: F401 - registered first
        from contacts.models import Contact
    except ImportError:
        return
    registered = admin.site._registry.get(Contact)  # noqa: SLF001
    if registered is not None and erase_personal_data not in (registered.actions or ()):
        registered.actions = (*(registered.actions or ()), erase_personal_data)


_extend_contact_admin()
