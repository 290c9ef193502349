"""Thin Celery tasks: load by id, call one service."""

from celery import shared_task

IMPORT_TIME_LIMIT = 4 * 3600


@shared_task(acks_late=True, soft_time_limit=IMPORT_TIME_LIMIT, time_limit=IMPORT_TIME_LIMIT + 60)
def import_contacts(import_id: int) -> dict:
    from contacts.models import ContactImport
    from contacts.services.imports import ImportBusy, ImportRefused, contacts_import

    item = ContactImport.objects.filter(pk=import_id).first()
    if item is None:
        return {"skipped": True}
    try:
        result = contacts_import(contact_import=item)
    except ImportBusy:  # done, or a redelivered task while the first still runs
        return {"skipped": True}
    except ImportRefused as exc:
        return {"refused": str(exc)}
    return {"imported": result.imported, "updated": result.updated, "duplicates": result.duplicates,
            "rejected": result.rejected}
