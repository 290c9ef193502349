"""Thin Celery tasks: load by id, call one service."""

from celery import shared_task

IMPORT_TIME_LIMIT = 4 * 3600


@shared_task(acks_late=True, soft_time_limit=IMPORT_TIME_LIMIT, time_limit=IMPORT_TIME_LIMIT + 60)
def import_contacts(import_id: int) -> dict:
    from contacts.models import ContactImport, ImportState
    from contacts.services.imports import ImportRefused, contacts_import

    item = ContactImport.objects.filter(pk=import_id).first()
    if item is None or item.state == ImportState.DONE:
        return {"skipped": True}
    try:
        result = contacts_import(contact_import=item)
    except ImportRefused as exc:
        return {"refused": str(exc)}
    return {"imported": result.imported, "updated": result.updated, "duplicates": result.duplicates,
            "rejected": result.rejected}


@shared_task(acks_late=True, soft_time_limit=IMPORT_TIME_LIMIT, time_limit=IMPORT_TIME_LIMIT + 60)
def push_contacts(ids: list[int] | None = None) -> dict:
    """Push contacts (all, or these ids): new ones in bulk through Import Subscribers."""
    from contacts.models import Contact
    from contacts.services.sync import contacts_push

    queryset = Contact.objects.filter(pk__in=ids) if ids else None
    return contacts_push(queryset=queryset).as_dict()


@shared_task(acks_late=True)
def sync_resource(resource: str, direction: str, ids: list[int] | None = None) -> dict:
    """Push or pull tags or segments (all, or these ids when pushing)."""
    from django.apps import apps

    from core import sync

    if direction == "push" and ids:
        model = {"tags": "contacts.Tag", "segments": "contacts.Segment", "contacts": "contacts.Contact"}[resource]
        return sync.push(resource, apps.get_model(model).objects.filter(pk__in=ids)).as_dict()
    return (sync.push(resource) if direction == "push" else sync.pull(resource)).as_dict()


@shared_task(acks_late=True)
def pull_segment_subscribers(segment_id: int) -> dict:
    from contacts.models import Segment
    from contacts.services.sync import segment_pull_subscribers

    segment = Segment.objects.get(pk=segment_id)
    return {"segment": segment_id, "remote_subscribers": segment_pull_subscribers(segment=segment)}
