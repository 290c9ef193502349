from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self):
        from contacts.sync_adapters import register_all

        register_all()
        from contacts.services.sync import SEGMENT_COUNT_JOB, segments_count_subscribers
        from core.sync_runs import register_job

        register_job(SEGMENT_COUNT_JOB, "pull", segments_count_subscribers)
        from messaging.webhooks.registry import register

        register("contacts:subscriber:subscription", contact_event)


def contact_event(event) -> dict:
    """``contacts:subscriber:subscription``: upsert; never marks the contact dirty."""
    from contacts.services.contacts import contact_upsert_from_bics

    found = contact_upsert_from_bics(event.payload)
    return {"contact": found.pk if found else None}
